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
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ari_app.media.codecs import ulaw_decode, ulaw_encode
from ari_app.media.resample import resample
from ari_app.stt.remote import RemoteStt, RemoteSttOptions
from ari_app.stt.whisper import FULL_WINDOW_DECODING, WhisperOptions, WhisperStt
from testkit.transcripts import edits, words

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "whisper-base"
SPEECH = REPO / "var" / "human-speech"


def _turn(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        pcm = w.readframes(w.getnframes())
    return bytes(2 * 4800) + resample(ulaw_decode(ulaw_encode(pcm)), 8000, 16000) + bytes(9600)


# the app's own decoding of a 30 s window
LIKE_OURS = FULL_WINDOW_DECODING


def _start_server(config: Path | None) -> tuple[subprocess.Popen[bytes], str]:
    """faster-whisper-server on the packaged model: its own defaults, or the decoding that
    `config` (its YAML) names."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Path(sys.executable).with_name("faster-whisper-server")
    what = ["--config", str(config)] if config else [str(MODEL)]
    proc = subprocess.Popen([str(server), *what, "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc, f"http://127.0.0.1:{port}/v1"
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("faster-whisper-server did not start (scripts/setup installs it)")


async def _measure(defaults_url: str, greedy_url: str) -> list[dict[str, Any]]:
    """Each clip heard in-process, by the server with its defaults and by the server
    decoding as the app does, one after another."""
    servers = {"remote": RemoteStt(RemoteSttOptions(base_url=defaults_url, timeout_s=60)),
               "greedy": RemoteStt(RemoteSttOptions(base_url=greedy_url, timeout_s=60))}
    local = WhisperStt(MODEL, WhisperOptions(window="fitted"))  # the app's default (config)
    local_full = WhisperStt(MODEL, WhisperOptions(window="full"))  # the server's window
    await local.load()
    await local_full.load()
    engines: dict[str, WhisperStt | RemoteStt] = {
        "local": local, "local_full": local_full, **servers}
    rows = []
    try:
        clips = [json.loads(p.read_text()) for p in sorted(SPEECH.glob("*.json"))]
        for server in servers.values():  # loads the model
            await server.transcribe(_turn(SPEECH / f"{clips[0]['id']}.wav"), "en")
        for clip in clips:
            pcm = _turn(SPEECH / f"{clip['id']}.wav")
            ref = words(clip["text"])
            row: dict[str, Any] = {"id": clip["id"], "words": len(ref)}
            for name, engine in engines.items():
                began = time.perf_counter()
                heard = await engine.transcribe(pcm, clip["language"])
                row[f"{name}_ms"] = (time.perf_counter() - began) * 1000
                row[f"{name}_edits"] = edits(ref, words(heard.text))
            rows.append(row)
    finally:
        for server in servers.values():
            await server.close()
        local.close()
        local_full.close()
    return rows


def run(write: Callable[[str], None] | None, machine: str,
        p50_p95: Callable[[list[float]], tuple[float, float]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "greedy.yaml"
        config.write_text(json.dumps({"models": [{
            "name": "whisper-1", "path": str(MODEL), "transcribe_options": LIKE_OURS}]}))
        defaults, defaults_url = _start_server(None)
        greedy, greedy_url = _start_server(config)
        try:
            rows = asyncio.run(_measure(defaults_url, greedy_url))
        finally:
            for proc in (defaults, greedy):
                proc.kill()
                proc.wait(10)
    total = sum(r["words"] for r in rows)
    figures = {name: (p50_p95([r[f"{name}_ms"] for r in rows]),
                      sum(r[f"{name}_edits"] for r in rows) / total)
               for name in ("local", "local_full", "remote", "greedy")}
    added = {name: p50_p95([r[f"{engine}_ms"] - r[f"{base}_ms"] for r in rows])
             for name, engine, base in (("remote", "remote", "local"),
                                        ("greedy", "greedy", "local"),
                                        ("greedy_net", "greedy", "local_full"))}
    section = "\n".join([
        "## Speech to text on a shared server against the app's own engine", "",
        f"{machine}; {time.strftime('%Y-%m-%d')}. `scripts/bench.py remote-stt`: the "
        f"{len(rows)} clips of the human speech set as a call gives them to a recogniser; "
        "in-process Whisper base (the app's WhisperStt) and RemoteStt asking "
        "faster-whisper-server 0.0.3 serving the same model on loopback, one turn at a time, "
        "on the same two cores: once with the server's own decoding (beam 5, temperature "
        "fallback) and once configured to decode as the app does (greedy, temperature 0, no "
        "conditioning). The server encodes Whisper's full 30 s window for every turn, where "
        "the app by default fits the window to the turn (`stt.window: fitted`); on a CPU "
        "that, not the network, is most of what the server adds.", "",
        "| | p50 ms | p95 ms | word error rate |", "|---|---|---|---|",
        *(f"| {label} | {figures[name][0][0]} | {figures[name][0][1]} | {figures[name][1]:.3f} |"
          for name, label in (("local", "in-process, fitted window (the app's default)"),
                              ("local_full", "in-process, 30 s window"),
                              ("remote", "server, its own decoding"),
                              ("greedy", "server, decoding as the app does"))),
        *(f"| added per turn, {label} | {added[name][0]} | {added[name][1]} | |"
          for name, label in (
              ("remote", "server with its own decoding against the app's default"),
              ("greedy", "server decoding as the app against the app's default"),
              ("greedy_net", "server decoding as the app against in-process on 30 s (the "
                             "server's own cost: HTTP, WAV, its process)"))),
    ])
    print(section)
    if write is not None:
        write(section)
    return {"clips": len(rows),
            "remote_added_p50_ms": added["greedy"][0], "remote_added_p95_ms": added["greedy"][1],
            "remote_defaults_added_p50_ms": added["remote"][0],
            "remote_defaults_added_p95_ms": added["remote"][1],
            "remote_over_same_window_p50_ms": added["greedy_net"][0],
            "remote_over_same_window_p95_ms": added["greedy_net"][1],
            "wer_local": round(figures["local"][1], 4),
            "wer_remote_greedy": round(figures["greedy"][1], 4),
            "wer_remote_defaults": round(figures["remote"][1], 4)}
