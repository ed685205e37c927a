"""`bench.py load`: many callers at once. For each level N, N real SIP calls start within
300 ms of each other (so their callers ask for the opening hours within 300 ms of each
other, after the same greeting), then say goodbye. Voice to voice of the question is
measured on the wire at each caller; `no_reply` counts callers who heard no answer. The
app's /metrics is scraped meanwhile for the recogniser's deepest queue and calls refused.

When the words are slow to come the caller hears the hold cue ("Секунду.",
`turn.hold_cue_ms`) before the answer: the wire's first sound is then the cue, not the
answer. So the answer's voice to voice is also read from the app's record of each call of
the wave (`v2v_ms` of the reply to the question: the end of the caller's speech as the app
heard it to the answer's first frame sent), and `concurrent_askers_*` are those; the wire
figures are `first_sound_*`. With the cue off (`--set turn.hold_cue_ms=0`) both measure the
answer, which shows how far the app's clock is from the wire's.

Then the drain: 8 calls in progress, SIGTERM to the app; `drain_s` is how long it took to
hand them all back to the dialplan (the app's own figure), `records_open_after_sigterm`
how many call records were left without an end.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ari_app.metrics import read_samples
from testkit.local import LocalApp, caller_lines, write_config
from testkit.runner import CallResult, place_call
from testkit.scenario import CallerLine

SPREAD_S = 0.3  # the callers' questions fall within this window
METRICS = "http://127.0.0.1:8080/metrics"


class Scraper:
    """Scrapes /metrics every 100 ms in a thread: the deepest recogniser queue seen."""

    def __init__(self) -> None:
        self.deepest = 0.0
        self.last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Scraper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with httpx.Client(timeout=2) as client:
            while not self._stop.wait(0.1):
                try:
                    self.last = read_samples(client.get(METRICS).text)
                except httpx.HTTPError:
                    continue
                self.deepest = max(self.deepest,
                                   self.last.get("secretary_recogniser_queue_depth", 0.0))


async def _one(audio: dict[str, Path], workdir: Path, delay_s: float) -> CallResult:
    await asyncio.sleep(delay_s)
    return await place_call(
        exten="100",
        utterances=[CallerLine(audio["ru_hours"], pause_before_ms=7000),
                    CallerLine(audio["ru_bye"], pause_before_ms=16000)],
        workdir=workdir, hangup="remote", hangup_wait_ms=25000, timeout_s=150,
    )


async def _wave(n: int, audio: dict[str, Path], work: Path) -> list[CallResult]:
    return list(await asyncio.gather(*(
        _one(audio, work / f"call{i}", SPREAD_S * i / max(1, n - 1)) for i in range(n)
    )))


async def _drain_wave(n: int, audio: dict[str, Path], work: Path, app: LocalApp) -> float:
    """n calls; once their greetings play, SIGTERM; how long from the signal to exit."""
    calls = [asyncio.ensure_future(place_call(
        exten="100", utterances=[CallerLine(audio["ru_hours"], pause_before_ms=7000)],
        workdir=work / f"call{i}", hangup="caller", hangup_wait_ms=15000, timeout_s=90,
    )) for i in range(n)]
    await asyncio.sleep(4.0)
    assert app.proc is not None
    signalled = time.monotonic()
    app.proc.send_signal(signal.SIGTERM)
    await asyncio.to_thread(app.proc.wait, 60)
    took = time.monotonic() - signalled
    await asyncio.gather(*calls)
    return took


def drain(audio: dict[str, Path], work: Path, settings: dict[str, Any], n: int = 8
          ) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    app = LocalApp(write_config(work, settings), work / "drain.log").start()
    exit_s = asyncio.run(_drain_wave(n, audio, work / "drain", app))
    found = re.search(r"every call handed back in ([\d.]+) s", app.output)
    with sqlite3.connect(work / "calls.sqlite3") as db:
        started = db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
        still_open = db.execute("SELECT COUNT(*) FROM calls WHERE ended_at IS NULL").fetchone()[0]
        handed = db.execute(
            "SELECT COUNT(*) FROM calls WHERE ended_by = 'handed_back'").fetchone()[0]
    return {"drain_calls": started, "drain_s": float(found.group(1)) if found else None,
            "drain_exit_s": round(exit_s, 1), "drain_handed_back": handed,
            "records_open_after_sigterm": still_open}


def _answers(db: Path, since: float) -> tuple[list[float], int]:
    """The app's voice to voice of the first answer of each call started after `since`
    (wall clock), and how many of those answers came after a hold cue."""
    v2v: list[float] = []
    cued = 0
    with sqlite3.connect(db) as con:
        calls = [r[0] for r in con.execute(
            "SELECT call_id FROM calls WHERE started_at >= ?", (since,))]
        for call_id in calls:
            for (timings,) in con.execute(
                    "SELECT timings FROM turns WHERE call_id = ? AND who = 'secretary' "
                    "ORDER BY idx", (call_id,)):
                t = json.loads(timings or "{}")
                if "v2v_ms" in t:
                    v2v.append(t["v2v_ms"])
                    cued += "hold_cue_ms" in t
                    break
    return v2v, cued


def run(levels: list[int], write: Callable[[str], None] | None, machine: str,
        pct: Callable[[list[float]], tuple[float, float]], settings: dict[str, Any]
        ) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    audio = caller_lines(work / "audio")
    summary: dict[str, Any] = {"benchmark": "load", "levels": levels}
    rows = []
    with LocalApp(write_config(work, settings), work / "secretary.log") as app:
        nan = (float("nan"), float("nan"))
        for n in levels:
            started, since = time.monotonic(), time.time()
            with Scraper() as scraper:
                results = asyncio.run(_wave(n, audio, work / f"n{n}"))
            took = time.monotonic() - started
            first = [r.v2v_ms[0] if r.v2v_ms else None for r in results]
            heard = [v for v in first if v is not None]
            no_reply = len(first) - len(heard)
            s50, s95 = pct(heard) if heard else nan
            answers, cued = _answers(work / "calls.sqlite3", since)
            p50, p95 = pct(answers) if answers else nan
            refused = sum(v for k, v in scraper.last.items()
                          if k.startswith("secretary_calls_refused_total"))
            summary[f"concurrent_askers_p50_ms_{n}"] = p50
            summary[f"concurrent_askers_p95_ms_{n}"] = p95
            summary[f"first_sound_p50_ms_{n}"] = s50
            summary[f"first_sound_p95_ms_{n}"] = s95
            summary[f"hold_cues_{n}"] = cued
            summary[f"no_reply_{n}"] = no_reply
            summary[f"recogniser_queue_max_{n}"] = scraper.deepest
            rows.append(f"| {n} | {p50} | {p95} | {s50} | {s95} | {cued} | {no_reply} | "
                        f"{scraper.deepest:.0f} | {refused:.0f} | {took:.0f} |")
            print(f"{n} callers: answer v2v p50 {p50} p95 {p95} ms (app's record), first "
                  f"sound on the wire p50 {s50} p95 {s95} ms, hold cues {cued}, no reply "
                  f"{no_reply}, recogniser queue max {scraper.deepest:.0f}", flush=True)
        assert app.proc is not None
    drained = drain(audio, work / "drain", settings)
    summary.update(drained)
    print(f"drain: {drained}", flush=True)
    summary["concurrent_askers_p95_ms"] = {n: summary[f"concurrent_askers_p95_ms_{n}"]
                                           for n in levels}
    summary["no_reply"] = sum(summary[f"no_reply_{n}"] for n in levels)
    lines = [
        f"## Load: callers asking at once ({time.strftime('%Y-%m-%d')})", "",
        f"Machine: {machine}. config/testbed.yaml{_settings(settings)}. At each level N real "
        f"SIP calls start within {SPREAD_S * 1000:.0f} ms of each other on the Russian line; "
        "each caller asks for the opening hours after the greeting (so N questions arrive "
        "within 300 ms), then says goodbye. Answer: voice to voice of the question's answer "
        "in the app's record of each call; first sound: the first sound each caller heard "
        "after the question, on the wire (the hold cue, when one was said); the recogniser's "
        "deepest queue from /metrics (scraped every 100 ms).",
        "", "| callers | answer p50 ms | answer p95 ms | first sound p50 ms | first sound "
        "p95 ms | hold cues | no reply | recogniser queue max | refused | wave s |",
        "|---|---|---|---|---|---|---|---|---|---|", *rows, "",
        f"Drain: {drained['drain_calls']} calls in progress (greetings playing), SIGTERM: "
        f"every call handed back to the dialplan in {drained['drain_s']} s "
        f"({drained['drain_handed_back']} records `handed_back`), the app exited "
        f"{drained['drain_exit_s']} s after the signal; records open after it: "
        f"{drained['records_open_after_sigterm']}.",
    ]
    print("\n".join(lines))
    if write is not None:
        write("\n".join(lines))
    return summary


def _settings(settings: dict[str, Any]) -> str:
    return "".join(f" {section}.{k}={v}" for section, values in settings.items()
                   for k, v in values.items())
