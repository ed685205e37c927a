"""No engine reports on the box: onnxruntime's telemetry is off in every `secretary`
process (ari_app/telemetry.py), checked on the real library and the real end-of-turn model
in a child process whose home folder is a fresh one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ari_app.telemetry import OPT_OUTS, quiet_engines
from ari_app.turn.smart_turn import default_model_path

REPO = Path(__file__).resolve().parents[2]
MODEL = default_model_path(REPO / "models")

# what a `secretary` process does before its engines load, then the end-of-turn model
# loaded and asked once
CHILD = """
import sys
from ari_app.telemetry import quiet_engines
if sys.argv[1] == "quiet":
    quiet_engines()
from ari_app.turn.smart_turn import SmartTurn
SmartTurn(__import__("pathlib").Path(sys.argv[2])).predict(bytes(16000), 8000)
"""


def vendor_files(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in (home / ".cache").rglob("*")) \
        if (home / ".cache").exists() else []


def run_child(mode: str, home: Path, extra: dict[str, str] | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if k not in OPT_OUTS}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), **(extra or {}))
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(MODEL)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.skipif(not MODEL.is_file(), reason=f"{MODEL} is missing: run scripts/setup-models")
def test_onnxruntime_writes_no_device_id_and_no_event_cache(tmp_path: Path) -> None:
    quiet, loud = tmp_path / "quiet", tmp_path / "loud"
    quiet.mkdir()
    loud.mkdir()
    run_child("quiet", quiet)
    assert vendor_files(quiet) == []
    # the same without the opt-out: what onnxruntime does by itself on this machine
    run_child("loud", loud)
    if not vendor_files(loud):
        pytest.skip("this onnxruntime keeps no telemetry files of its own")
    assert any("deviceid" in name for name in vendor_files(loud)), vendor_files(loud)


@pytest.mark.skipif(not MODEL.is_file(), reason=f"{MODEL} is missing: run scripts/setup-models")
def test_an_admin_who_opts_in_is_heard(tmp_path: Path) -> None:
    """ORT_DISABLE_TELEMETRY=0 set by the admin stands: quiet_engines does not override it."""
    control = tmp_path / "control"
    control.mkdir()
    run_child("loud", control)
    if not vendor_files(control):
        pytest.skip("this onnxruntime keeps no telemetry files of its own")
    opted_in = tmp_path / "opted-in"
    opted_in.mkdir()
    run_child("quiet", opted_in, {"ORT_DISABLE_TELEMETRY": "0"})
    assert vendor_files(opted_in) != []


def test_quiet_engines_sets_only_what_the_admin_left_unset() -> None:
    env = {"DO_NOT_TRACK": "0", "PATH": "/bin"}
    assert quiet_engines(env) == {"ORT_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    assert env == {"DO_NOT_TRACK": "0", "PATH": "/bin", "ORT_DISABLE_TELEMETRY": "1",
                   "HF_HUB_DISABLE_TELEMETRY": "1"}
    assert quiet_engines(env) == {}
