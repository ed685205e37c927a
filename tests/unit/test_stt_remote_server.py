"""Speech to text on a real shared server: faster-whisper-server (PyPI, installed by
scripts/setup) serving the packaged Whisper base over OpenAI's /v1/audio/transcriptions,
asked by `RemoteStt` with real human speech from the labelled set, the app's own local
Whisper hearing the same turns; then the server killed, and the local engine hears."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ari_app.media.codecs import ulaw_decode, ulaw_encode
from ari_app.media.resample import resample
from ari_app.stt.remote import RemoteFirstStt, RemoteStt, RemoteSttOptions
from ari_app.stt.whisper import WhisperOptions, WhisperStt
from testkit.transcripts import edits, words

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "whisper-base"
SPEECH = REPO / "var" / "human-speech"
SERVER = Path(sys.executable).with_name("faster-whisper-server")
CLIPS = 4  # sentences per language

pytestmark = pytest.mark.skipif(
    not (MODEL / "model.bin").is_file() or not SPEECH.is_dir(),
    reason="no Whisper model or human speech set here (scripts/setup makes both)")


def phone_turn(path: Path) -> bytes:
    """An 8 kHz WAV through u-law and back at 16 kHz, as the call path gives a recogniser."""
    with wave.open(str(path)) as w:
        pcm = w.readframes(w.getnframes())
    return bytes(2 * 4800) + resample(ulaw_decode(ulaw_encode(pcm)), 8000, 16000) + bytes(9600)


def sentences() -> list[tuple[str, str, Path]]:
    """(language, reference text, wav) of the first CLIPS sentences of each language."""
    found: dict[str, list[tuple[str, str, Path]]] = {"ru": [], "en": []}
    for label in sorted(SPEECH.glob("*.json")):
        clip = json.loads(label.read_text())
        chosen = found.get(clip["language"])
        if clip["kind"] == "sentence" and chosen is not None and len(chosen) < CLIPS:
            chosen.append((clip["language"], clip["text"], label.with_suffix(".wav")))
    return found["ru"] + found["en"]


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    if not SERVER.is_file():
        pytest.fail(f"{SERVER} is missing: scripts/setup installs faster-whisper-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(SERVER), str(MODEL), "--host", "127.0.0.1", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"faster-whisper-server did not start: {err[-2000:]}")
        time.sleep(0.3)
    try:
        yield f"{base}/v1", proc
    finally:
        proc.kill()
        proc.wait(10)


def test_the_server_hears_real_speech_as_well_as_the_local_engine(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    clips = sentences()
    assert len(clips) == 2 * CLIPS, [c[2].name for c in clips]

    async def hear() -> tuple[list[int], list[int], int, list[float]]:
        remote = RemoteStt(RemoteSttOptions(base_url=base_url, timeout_s=60))
        local = WhisperStt(MODEL, WhisperOptions(threads=1))
        await local.load()
        remote_edits, local_edits, total, remote_ms = [], [], 0, []
        try:
            for language, text, wav in clips:
                pcm = phone_turn(wav)
                by_server = await remote.transcribe(pcm, language)
                by_us = await local.transcribe(pcm, language)
                assert by_server.source == "remote" and by_server.remote_ms
                remote_ms.append(by_server.remote_ms)
                ref = words(text)
                remote_edits.append(edits(ref, words(by_server.text)))
                local_edits.append(edits(ref, words(by_us.text)))
                total += len(ref)
        finally:
            await remote.close()
            local.close()
        return remote_edits, local_edits, total, remote_ms

    remote_edits, local_edits, total, remote_ms = asyncio.run(hear())
    # the same model on the server: about as many word errors as our own engine (which
    # decodes phone turns with its own windows and guards), and far fewer than words
    assert sum(remote_edits) <= sum(local_edits) + max(2, total // 10), (remote_edits,
                                                                      local_edits)
    assert sum(remote_edits) / total < 0.35, remote_edits
    assert all(ms > 0 for ms in remote_ms)


def test_with_the_server_killed_the_local_engine_hears_the_turn(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, proc = server
    language, text, wav = sentences()[0]
    failures: list[str] = []

    async def hear() -> tuple[str, str]:
        remote = RemoteStt(RemoteSttOptions(base_url=base_url, timeout_s=5, retry_after_s=60))
        local = WhisperStt(MODEL, WhisperOptions(threads=1))
        stt = RemoteFirstStt(remote, local, on_failure=failures.append)
        await stt.load()
        try:
            heard = await stt.transcribe(phone_turn(wav), language)
        finally:
            await remote.close()
            local.close()
        return heard.source, heard.text

    proc.kill()
    proc.wait(10)
    source, heard = asyncio.run(hear())
    assert source == "local" and len(failures) == 1, failures
    ref = words(text)
    assert edits(ref, words(heard)) < len(ref), heard

