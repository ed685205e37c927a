#!/usr/bin/env python3
"""Benchmarks on the real parts. `bench.py call [-n N]` places N real SIP calls into the
testbed (alternating the Russian and English lines), each asking for the opening hours,
and reports voice-to-voice latency measured on the wire at the caller (end of the caller's
last RTP packet of the question -> first non-silent reply packet), plus the app's own
per-turn parts (end-of-turn wait, STT, reply, TTS to first audio) from the call records.
Prints a table, writes it to docs/benchmarks.md, and prints one JSON line last."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ari_app.storage import CallStore  # noqa: E402
from ari_app.testcall.local import LocalApp, caller_lines, write_config  # noqa: E402
from ari_app.testcall.runner import place_call  # noqa: E402
from ari_app.testcall.scenario import Utterance  # noqa: E402

TESTBED = REPO / "scripts" / "asterisk-testbed"
DOC = REPO / "docs" / "benchmarks.md"
PARTS = ("endpoint_ms", "stt_ms", "reply_ms", "tts_first_audio_ms", "v2v_ms")


def pct(values: list[float], q: float) -> float:
    """Percentile by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, no GPU"


async def turn_timings(db: Path) -> list[dict[str, Any]]:
    store = CallStore(db)
    await store.open()
    try:
        rows = []
        for summary in await store.list_calls(1000):
            call = await store.get_call(summary["call_id"])
            assert call is not None
            for turn in call["turns"]:
                timings = turn.get("timings") or {}
                if isinstance(timings, str):
                    timings = json.loads(timings)
                if "v2v_ms" in timings:
                    rows.append({"language": call["language"], **timings})
        return rows
    finally:
        await store.close()


def write_doc(section: str) -> None:
    start, end = "<!-- bench:call -->", "<!-- /bench:call -->"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\nFigures from `scripts/bench.py`.\n"
    block = f"{start}\n{section}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


def bench_call(n: int, write: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-call-"))
    was_running = subprocess.run([TESTBED, "status"], capture_output=True).returncode == 0
    subprocess.run([TESTBED, "start"], check=True, capture_output=True)
    audio = caller_lines(work / "audio")
    app = LocalApp(write_config(work), work / "secretary.log").start()
    wire: dict[str, list[float]] = {"ru": [], "en": []}
    try:
        for i in range(n):
            lang = "ru" if i % 2 == 0 else "en"
            result = asyncio.run(
                place_call(
                    exten="100" if lang == "ru" else "101",
                    utterances=[
                        Utterance(audio[f"{lang}_hours"], pause_before_ms=7000),
                        Utterance(audio[f"{lang}_bye"], pause_before_ms=15000),
                    ],
                    workdir=work / f"call{i}",
                    hangup="remote",
                    hangup_wait_ms=15000,
                )
            )
            v2v = [v for v in result.v2v_ms if v is not None]
            wire[lang].extend(v2v)
            print(
                f"call {i + 1}/{n} ({lang}): v2v at caller {[round(v) for v in v2v]} ms",
                file=sys.stderr,
            )
    finally:
        app.stop()
        if not was_running:
            subprocess.run([TESTBED, "stop"], check=False, capture_output=True)
    rows = asyncio.run(turn_timings(work / "calls.sqlite3"))
    all_wire = wire["ru"] + wire["en"]
    if not all_wire:
        raise SystemExit("no reply was heard on any call; see " + str(work / "secretary.log"))
    summary: dict[str, Any] = {
        "benchmark": "call",
        "calls": n,
        "turns": len(all_wire),
        "v2v_p50_ms": round(pct(all_wire, 0.5), 1),
        "v2v_p95_ms": round(pct(all_wire, 0.95), 1),
    }
    for lang in ("ru", "en"):
        if wire[lang]:
            summary[f"v2v_p50_ms_{lang}"] = round(pct(wire[lang], 0.5), 1)
    for part in PARTS:
        values = [r[part] for r in rows if part in r]
        if values:
            key = part.removesuffix("_ms")
            summary[f"app_{key}_p50_ms"] = round(pct(values, 0.5), 1)
            summary[f"app_{key}_p95_ms"] = round(pct(values, 0.95), 1)
    today = dt.date.today().isoformat()
    lines = [
        f"## Call: voice to voice ({today})",
        "",
        f"Machine: {machine()}. {n} real SIP calls (sipp -> Asterisk 22 testbed -> "
        "secretary), alternating ru/en; each caller asks for the hours, then says goodbye. "
        "Voice to voice is measured on the wire at the caller: its last RTP packet of a "
        "question to the first non-silent reply packet. Parts come from the call records.",
        "",
        "| figure | p50 ms | p95 ms |",
        "|---|---|---|",
        f"| voice to voice at the caller (all turns, n={len(all_wire)}) | "
        f"{summary['v2v_p50_ms']} | {summary['v2v_p95_ms']} |",
    ]
    for lang in ("ru", "en"):
        if wire[lang]:
            lines.append(
                f"| voice to voice, {lang} (n={len(wire[lang])}) | "
                f"{round(pct(wire[lang], 0.5), 1)} | {round(pct(wire[lang], 0.95), 1)} |"
            )
    names = {
        "endpoint": "end-of-turn wait",
        "stt": "STT",
        "reply": "reply",
        "tts_first_audio": "TTS to first audio",
        "v2v": "voice to voice inside the app",
    }
    for part in PARTS:
        key = part.removesuffix("_ms")
        if f"app_{key}_p50_ms" in summary:
            lines.append(
                f"| {names[key]} | {summary[f'app_{key}_p50_ms']} | "
                f"{summary[f'app_{key}_p95_ms']} |"
            )
    print("\n".join(lines))
    if write:
        write_doc("\n".join(lines))
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="which", required=True)
    call = sub.add_parser("call", help="voice-to-voice latency over real SIP calls")
    call.add_argument("-n", "--calls", type=int, default=10)
    call.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    summary = bench_call(args.calls, write=not args.no_write)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
