"""`bench.py remote-stt`: speech to text on a shared server against the app's own engine, on
the same turns: every clip of the labelled human speech set (var/human-speech), as a call
gives it to a recogniser (8 kHz through u-law, at 16 kHz), heard by the in-process Whisper
and by `RemoteStt` asking faster-whisper-server (PyPI) serving the same packaged model on
this machine's loopback. Prints the time each takes per turn, what the server adds (p50/p95),
and the word error rate of each."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ari_app.media.codecs import ulaw_decode, ulaw_encode
from ari_app.media.resample import resample
from ari_app.stt.remote import RemoteStt, RemoteSttOptions
from ari_app.stt.whisper import WhisperOptions, WhisperStt
from testkit.transcripts import edits, words

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "whisper-base"
SPEECH = REPO / "var" / "human-speech"


def _turn(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        pcm = w.readframes(w.getnframes())
    return bytes(2 * 4800) + resample(ulaw_decode(ulaw_encode(pcm)), 8000, 16000) + bytes(9600)


def _start_server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Path(sys.executable).with_name("faster-whisper-server")
    proc = subprocess.Popen([str(server), str(MODEL), "--host", "127.0.0.1", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc, f"http://127.0.0.1:{port}/v1"
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("faster-whisper-server did not start (scripts/setup installs it)")


async def _measure(base_url: str) -> list[dict[str, Any]]:
    remote = RemoteStt(RemoteSttOptions(base_url=base_url, timeout_s=60))
    local = WhisperStt(MODEL, WhisperOptions())
    await local.load()
    rows = []
    try:
        clips = [json.loads(p.read_text()) for p in sorted(SPEECH.glob("*.json"))]
        await remote.transcribe(_turn(SPEECH / f"{clips[0]['id']}.wav"), "en")  # loads it
        for clip in clips:
            pcm = _turn(SPEECH / f"{clip['id']}.wav")
            began = time.perf_counter()
            ours = await local.transcribe(pcm, clip["language"])
            local_ms = (time.perf_counter() - began) * 1000
            began = time.perf_counter()
            theirs = await remote.transcribe(pcm, clip["language"])
            remote_ms = (time.perf_counter() - began) * 1000
            ref = words(clip["text"])
            rows.append({"id": clip["id"], "words": len(ref), "local_ms": local_ms,
                         "remote_ms": remote_ms,
                         "local_edits": edits(ref, words(ours.text)),
                         "remote_edits": edits(ref, words(theirs.text))})
    finally:
        await remote.close()
        local.close()
    return rows


def run(write: Callable[[str], None] | None, machine: str,
        p50_p95: Callable[[list[float]], tuple[float, float]]) -> dict[str, Any]:
    proc, base_url = _start_server()
    try:
        rows = asyncio.run(_measure(base_url))
    finally:
        proc.kill()
        proc.wait(10)
    local = p50_p95([r["local_ms"] for r in rows])
    remote = p50_p95([r["remote_ms"] for r in rows])
    added = p50_p95([r["remote_ms"] - r["local_ms"] for r in rows])
    total = sum(r["words"] for r in rows)
    wer_local = sum(r["local_edits"] for r in rows) / total
    wer_remote = sum(r["remote_edits"] for r in rows) / total
    section = "\n".join([
        "## Speech to text on a shared server against the app's own engine", "",
        f"{machine}; {time.strftime('%Y-%m-%d')}. `scripts/bench.py remote-stt`: the "
        f"{len(rows)} clips of the human speech set as a call gives them to a recogniser; "
        "in-process Whisper base (the app's WhisperStt) and RemoteStt asking "
        "faster-whisper-server 0.0.3 serving the same model on loopback, one turn at a time, "
        "on the same two cores. The server decodes with its own defaults (beam 5), so its "
        "time is the server's, not the network's alone.", "",
        "| | p50 ms | p95 ms | word error rate |", "|---|---|---|---|",
        f"| in-process | {local[0]} | {local[1]} | {wer_local:.3f} |",
        f"| remote server | {remote[0]} | {remote[1]} | {wer_remote:.3f} |",
        f"| added by the server (per turn) | {added[0]} | {added[1]} | |",
    ])
    print(section)
    if write is not None:
        write(section)
    return {"clips": len(rows), "remote_added_p50_ms": added[0], "remote_added_p95_ms": added[1],
            "wer_local": round(wer_local, 4), "wer_remote": round(wer_remote, 4)}
