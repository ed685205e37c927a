"""scripts/fetch-models against a local HTTP server standing in for the model sites: a
Vosk-style zip lands unpacked in models/vosk-ru, Piper files side by side in models/piper,
an existing model is skipped, and a dead site is a clear error."""

from __future__ import annotations

import functools
import http.server
import importlib.machinery
import importlib.util
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fetch-models"


def load_script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("fetch_models", str(SCRIPT))
    spec = importlib.util.spec_from_loader("fetch_models", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    root.mkdir()
    with zipfile.ZipFile(root / "vosk-model-small-ru-0.22.zip", "w") as zf:
        zf.writestr("vosk-model-small-ru-0.22/am/final.mdl", b"acoustic")
        zf.writestr("vosk-model-small-ru-0.22/conf/model.conf", b"--x=1\n")
    (root / "v.onnx").write_bytes(b"onnx")
    (root / "v.onnx.json").write_text("{}")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def test_zip_is_unpacked_and_files_are_placed(site: str, tmp_path: Path) -> None:
    fm = load_script()
    fm.MODELS["vosk-ru"] = ("zip", [site + "vosk-model-small-ru-0.22.zip"], "vosk-ru")
    fm.MODELS["piper-ru-test"] = ("files", [site + "v.onnx", site + "v.onnx.json"], "piper")
    models = tmp_path / "models"
    models.mkdir()
    assert fm.fetch("vosk-ru", models, dry_run=False) == models / "vosk-ru"
    assert (models / "vosk-ru" / "am" / "final.mdl").read_bytes() == b"acoustic"
    fm.fetch("piper-ru-test", models, dry_run=False)
    assert (models / "piper" / "v.onnx").read_bytes() == b"onnx"
    assert not list(models.rglob("*.part"))
    # a second run finds them and downloads nothing
    fm.MODELS["vosk-ru"] = ("zip", ["http://127.0.0.1:9/gone.zip"], "vosk-ru")
    fm.fetch("vosk-ru", models, dry_run=False)


def test_dead_site_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fm = load_script()
    fm.MODELS["vosk-en"] = ("zip", ["http://127.0.0.1:9/nothing.zip"], "vosk-en")
    monkeypatch.setattr("sys.argv", ["fetch-models", "--models-dir", str(tmp_path), "vosk-en"])
    assert fm.main() == 1
    assert "vosk-en" in capsys.readouterr().err


def test_unknown_name_and_list(capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    fm = load_script()
    monkeypatch.setattr("sys.argv", ["fetch-models", "nope"])
    assert fm.main() == 2
    monkeypatch.setattr("sys.argv", ["fetch-models", "--list"])
    assert fm.main() == 0
    listed = capsys.readouterr().out
    assert "vosk-ru" in listed and "piper-ru-irina" in listed and "whisper-small" in listed
