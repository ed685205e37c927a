"""XTTS v2 (coqui-tts) engine: real loading, voice latents with their disk cache, streaming.

The checkpoint used here is NOT the real XTTS v2 (1.8 GB, not downloadable on this machine): it
is a tiny, RANDOMLY INITIALISED model of the same architecture built by tests/xtts_tiny.py with
coqui-tts's own classes. Its audio is noise-like, not speech, so nothing here judges quality.
What these tests exercise is the real code path: config.json + model.pth + vocab.json loaded by
XttsConfig / Xtts.load_checkpoint, conditioning latents computed from reference clips (RHVoice
Anna, stored with ari_app.tts.voices.add_voice) and cached on disk, and inference_stream's chunks
handed out of the worker thread as they are made.

Needs the XTTS engine (scripts/install-xtts, docs/xtts.md) and RHVoice; no Asterisk, no network.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ari_app.errors import EngineUnavailable
from ari_app.tts import build_tts
from ari_app.tts.voices import add_voice
from ari_app.tts.xtts import XttsTts, voice_clips, xtts_from_voice

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
FETCH = REPO / "scripts" / "fetch-xtts-model"
HAVE_XTTS = importlib.util.find_spec("TTS") is not None
needs_xtts = pytest.mark.skipif(
    not HAVE_XTTS, reason="the XTTS engine is not installed (scripts/install-xtts, docs/xtts.md)"
)

CLIP_TEXTS = [
    "Здравствуйте! Это тестовая запись голоса для клонирования, четыре секунды речи.",
    "Мы работаем с понедельника по пятницу, с девяти утра до шести вечера.",
]
RU_TEXT = "Добрый день, чем могу помочь?"
EN_TEXT = "Good afternoon, how can I help you?"
CHUNK_TOKENS = 6  # tokens per streamed chunk (the tiny model stops after 13 tokens)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAVE_XTTS:
        pytest.skip("the XTTS engine is not installed (scripts/install-xtts, docs/xtts.md)")
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from xtts_tiny import build_tiny_xtts
    finally:
        sys.path.pop(0)
    return build_tiny_xtts(tmp_path_factory.mktemp("xtts-tiny"))


@pytest.fixture(scope="module")
def voice_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("RHVoice-test") is None:
        pytest.fail("RHVoice-test is missing: apt-get install rhvoice rhvoice-russian")
    work = tmp_path_factory.mktemp("xtts-clips")
    clips = []
    for i, text in enumerate(CLIP_TEXTS, start=1):
        out = work / f"take-{i}.wav"
        subprocess.run(
            ["RHVoice-test", "-p", "anna", "-o", str(out)],
            input=text.encode("utf-8"), check=True, capture_output=True, timeout=60,
        )
        clips.append(out)
    report = add_voice("anna-test", clips, work / "voices")
    assert report.ok, report.problems
    assert report.voice_dir is not None
    return report.voice_dir


def engine(
    model_dir: Path, voice: Path, language: str, cache_dir: Path | None = None
) -> XttsTts:
    return XttsTts(
        model_dir, voice, language, cache_dir=cache_dir,
        stream_chunk_size=CHUNK_TOKENS, warmup=False,
    )


async def collect(tts: XttsTts, text: str) -> tuple[list[bytes], list[float], float]:
    """Chunks, each chunk's arrival (s after the call) and the total time."""
    started = time.perf_counter()
    chunks: list[bytes] = []
    arrivals: list[float] = []
    async for chunk in tts.synthesize(text):
        chunks.append(chunk)
        arrivals.append(time.perf_counter() - started)
    return chunks, arrivals, time.perf_counter() - started


@pytest.fixture
def cache_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "latents"


@needs_xtts
@pytest.mark.parametrize(("language", "text"), [("ru", RU_TEXT), ("en", EN_TEXT)])
async def test_streams_int16_chunks_at_24k(
    tiny_model: Path, voice_dir: Path, cache_dir: Path, language: str, text: str
) -> None:
    tts = engine(tiny_model, voice_dir, language, cache_dir)
    try:
        await tts.load()
        assert tts.sample_rate == 24000
        assert tts.device == "cpu"
        chunks, arrivals, total = await collect(tts, text)
    finally:
        tts.close()
    assert len(chunks) > 1, "inference_stream should hand out several chunks"
    assert all(len(c) % 2 == 0 for c in chunks)
    pcm = np.frombuffer(b"".join(chunks), dtype="<i2")
    # 13 tokens of 1024 samples at 22.05 kHz, decoded at 24 kHz: about 0.6 s.
    assert 0.3 < len(pcm) / tts.sample_rate < 2.0
    assert np.any(pcm != 0)
    # Streaming: the first chunk was in hand well before the last one was made.
    assert arrivals[0] < 0.75 * total, (arrivals, total)


@needs_xtts
async def test_latents_cached_on_disk_and_recomputed_when_a_clip_changes(
    tiny_model: Path, voice_dir: Path, tmp_path: Path
) -> None:
    voice = tmp_path / "voice"
    shutil.copytree(voice_dir, voice)
    cache = tmp_path / "latents"

    first = engine(tiny_model, voice, "ru", cache)
    await first.load()
    first.close()
    assert first.latents_from_cache is False
    assert first.latents_path is not None and first.latents_path.is_file()
    assert first.latents_path.parent == cache

    second = engine(tiny_model, voice, "en", cache)
    await second.load()
    assert second.latents_from_cache is True
    assert second.latents_path == first.latents_path
    assert first._gpt_cond_latent is not None and second._gpt_cond_latent is not None
    assert np.allclose(first._gpt_cond_latent.numpy(), second._gpt_cond_latent.numpy())
    chunks, _arrivals, _total = await collect(second, "Hi.")
    second.close()
    assert chunks, "an engine with cached latents still speaks"

    # A changed clip (a little quieter) gives another key: the latents are recomputed.
    clip = voice_clips(voice)[-1]
    with wave.open(str(clip), "rb") as wav:
        params = wav.getparams()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    with wave.open(str(clip), "wb") as wav:
        wav.setparams(params)
        wav.writeframes((samples * 0.8).astype("<i2").tobytes())
    third = engine(tiny_model, voice, "ru", cache)
    await third.load()
    third.close()
    assert third.latents_from_cache is False
    assert third.latents_path != first.latents_path
    assert sorted(p.name for p in cache.glob("*.pt")) == sorted(
        [first.latents_path.name, third.latents_path.name]  # type: ignore[union-attr]
    )


@needs_xtts
async def test_a_language_the_model_lacks_is_refused(tiny_model: Path, voice_dir: Path) -> None:
    tts = engine(tiny_model, voice_dir, "de", voice_dir.parent / "latents")
    with pytest.raises(EngineUnavailable, match="does not speak 'de'"):
        await tts.load()
    tts.close()


async def test_missing_model_dir_names_the_fetch_script(tmp_path: Path) -> None:
    voice = tmp_path / "voice"
    voice.mkdir()
    (voice / "clip-01.wav").write_bytes(b"")
    tts = XttsTts(tmp_path / "no-model", voice, "ru")
    with pytest.raises(EngineUnavailable, match="scripts/fetch-xtts-model"):
        await tts.load()
    tts.close()


async def test_incomplete_model_dir_names_the_fetch_script(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    tts = XttsTts(model, tmp_path, "ru")
    with pytest.raises(EngineUnavailable, match=r"lacks model\.pth, vocab\.json.*fetch-xtts-model"):
        await tts.load()
    tts.close()


@pytest.mark.parametrize("make_dir", [False, True], ids=["missing", "empty"])
async def test_missing_or_empty_voice_names_voice_add(tmp_path: Path, make_dir: bool) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for name in ("config.json", "model.pth", "vocab.json"):
        (model / name).write_bytes(b"x")
    voice = tmp_path / "voices" / "anna"
    if make_dir:
        voice.mkdir(parents=True)
    tts = XttsTts(model, voice, "ru")
    with pytest.raises(EngineUnavailable, match="secretary voice add anna"):
        await tts.load()
    tts.close()


def test_build_tts_parses_the_voice_string() -> None:
    tts = build_tts("xtts", "models/xtts-v2|voices/anna|ru")
    assert isinstance(tts, XttsTts)
    assert tts.model_dir == Path("models/xtts-v2")
    assert tts.voice_dir == Path("voices/anna")
    assert tts.language == "ru"
    assert tts.cache_dir == Path("voices/anna/.xtts-latents")
    assert tts.name == "xtts:anna"
    assert xtts_from_voice("m|v|en-US|cuda").requested_device == "cuda"
    for bad in ("models/xtts-v2", "m|v", "m||ru", "a|b|c|d|e"):
        with pytest.raises(EngineUnavailable, match=re.escape("MODEL_DIR|VOICE_DIR|LANGUAGE")):
            xtts_from_voice(bad)


def run_fetch(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(FETCH), *args], input=stdin, capture_output=True, text=True,
        timeout=30, check=False,
    )


def test_fetch_script_arguments(tmp_path: Path) -> None:
    """Argument handling only: nothing here touches the network."""
    helped = run_fetch("--help")
    assert helped.returncode == 0
    assert "--dest" in helped.stdout and "--accept-license" in helped.stdout

    dest = tmp_path / "xtts"
    refused = run_fetch("--dest", str(dest))  # stdin is not a terminal, no --accept-license
    assert refused.returncode == 2
    assert "Coqui Public Model License" in refused.stderr
    assert "NON-COMMERCIAL" in refused.stderr
    assert "--accept-license" in refused.stderr
    assert not dest.exists(), "nothing is created before the licence is accepted"

    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert run_fetch("--dest", str(a_file), "--accept-license").returncode == 2
    assert run_fetch("--files", "other.bin", "--accept-license").returncode == 2
    assert run_fetch("--revision", "a b", "--accept-license").returncode == 2
