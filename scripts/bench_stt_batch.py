#!/usr/bin/env python3
"""Whisper with turns of several calls decoded together (`stt.batch`), offline.

N human turns (the labelled human speech set, testkit/human_speech.py, through G.711 u-law
at 8 kHz as on a phone line, then 16 kHz) reach the recogniser at the same moment, as when
N callers finish their questions together. For each N and each batch setting: how long each
turn waited for its transcript (median and p95), the time to the last one, and whether the
texts differ from one-at-a-time decoding. Whisper base, int8, the fitted window.

Prints markdown and one JSON line last; `--write` puts the section into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ari_app.media.codecs import ulaw_decode, ulaw_encode  # noqa: E402
from ari_app.media.resample import resample  # noqa: E402
from ari_app.models import whisper_model_dir  # noqa: E402
from ari_app.stt.whisper import WhisperOptions, WhisperStt  # noqa: E402
from testkit.human_speech import assemble  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
from bench import machine, write_doc  # noqa: E402  (scripts/bench.py)

SECTION = "stt-batch"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def wave(stt: WhisperStt, turns: list[tuple[bytes, str]]) -> tuple[list[float], float,
                                                                         list[str]]:
    """All turns at once: each one's wait for its transcript (ms), the wave's length (s)."""
    started = time.perf_counter()

    async def one(pcm: bytes, language: str) -> tuple[float, str]:
        heard = await stt.transcribe(pcm, language)
        return (time.perf_counter() - started) * 1000, heard.text

    done = await asyncio.gather(*(one(pcm, lang) for pcm, lang in turns))
    return [ms for ms, _ in done], time.perf_counter() - started, [text for _, text in done]


async def run(levels: list[int], batches: list[int]) -> dict[str, Any]:
    clips = sorted((c for c in assemble(REPO / "var" / "human-speech").values() if c.human),
                   key=lambda c: c.id)
    turns = [(resample(ulaw_decode(ulaw_encode(c.pcm())), 8000, 16000), c.language)
             for c in clips]
    figures: dict[str, Any] = {}
    texts: dict[int, dict[int, list[str]]] = {}
    for batch in batches:
        stt = WhisperStt(whisper_model_dir(REPO / "models"),
                         WhisperOptions(window="fitted", batch=batch))
        await stt.load()
        await stt.transcribe(*turns[0])  # warm
        for n in levels:
            chosen = [turns[i % len(turns)] for i in range(n)]
            waits, took, heard = await wave(stt, chosen)
            texts.setdefault(n, {})[batch] = heard
            figures[f"batch{batch}_n{n}"] = {
                "p50_ms": round(statistics.median(waits)), "p95_ms": round(p95(waits)),
                "last_s": round(took, 2)}
            print(f"batch {batch}, {n} turns at once: p50 {statistics.median(waits):.0f} ms, "
                  f"p95 {p95(waits):.0f} ms, last {took:.2f} s", file=sys.stderr, flush=True)
        stt.close()
    base = min(batches)
    figures["texts_differing"] = {
        n: sum(said != heard for other in by_batch.values() if other is not by_batch[base]
               for said, heard in zip(by_batch[base], other, strict=True))
        for n, by_batch in texts.items()}
    figures["clips"] = len(clips)
    return figures


def markdown(figures: dict[str, Any], levels: list[int], batches: list[int]) -> str:
    rows = []
    for n in levels:
        cells = []
        for batch in batches:
            f = figures[f"batch{batch}_n{n}"]
            cells.append(f"{f['p50_ms']} / {f['p95_ms']} ms, {f['last_s']} s")
        rows.append(f"| {n} | " + " | ".join(cells) + f" | {figures['texts_differing'][n]} |")
    head = " | ".join(f"batch {b}: p50 / p95, last" for b in batches)
    return "\n".join([
        f"## Recogniser batching ({dt.date.today().isoformat()})", "",
        f"Machine: {machine()}. Offline: N turns of the human speech set ({figures['clips']} "
        "clips, cycled; through G.711 u-law at 8 kHz) reach Whisper base (int8, fitted "
        "window) at the same moment. Each turn's wait for its transcript, and the time to "
        "the last one. `stt.batch` 1 decodes one at a time; N decodes up to N turns that wait "
        "together and share a window length (the oldest waiting turn's) as one batch "
        "(`ari_app/stt/batching.py`); texts differing: turns whose transcript is not the "
        "one-at-a-time one.", "",
        f"| turns at once | {head} | texts differing |",
        "|---|" + "---|" * len(batches) + "---|", *rows,
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,8,24,48")
    parser.add_argument("--batches", default="1,4,8")
    parser.add_argument("--write", action="store_true", help="into docs/benchmarks.md")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    batches = [int(x) for x in args.batches.split(",")]
    figures = asyncio.run(run(levels, batches))
    text = markdown(figures, levels, batches)
    print(text)
    if args.write:
        write_doc(SECTION, text)
    print(json.dumps({"stt_batch": figures}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
