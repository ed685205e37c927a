"""`bench.py soak`: many callers for a long time, then a count of what was left behind.

`--calls` caller slots (40 by default) call the Russian line through the testbed for
`--minutes` (10): each slot places a call, waits a few seconds, calls again, until the time
is up. Every call has one of four shapes, drawn by a seeded random generator so that runs
compare: a question then goodbye (the app hangs up); a question and a hang-up in the middle
of the answer; silence and a hang-up after the greeting; two questions and a goodbye. The
box is past saturation at 40 on this machine's two cores, so some calls are refused to the
line's fallback (`capacity`, counted): those must leave nothing behind either.

Measured on the app's process (/proc): resident memory, open file descriptors and threads
after a warm-up (every slot's first call over; the slots wait, so that no call is live)
and again after the last call has ended;
in Asterisk (ARI): channels and bridges left; in the record: calls without an end.
`soak_leaks` is the sum of channels, bridges, and file descriptors and threads above the
warm-up figure; `soak_rss_growth` is (end RSS / warm-up RSS) - 1.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ari_app.metrics import read_samples
from testkit.local import LocalApp, caller_lines, write_config
from testkit.runner import CallResult, place_call
from testkit.scenario import CallerLine, Hangup

ARI = "http://127.0.0.1:8088/ari"
AUTH = ("secretary", "testbed-secret")
SEED = 20261204
SETTLE_S = 15.0  # after the last call: time for teardown before counting
SAMPLE_EVERY_S = 30.0  # resident memory through the soak
METRICS = "http://127.0.0.1:8080/metrics"


@dataclass(frozen=True)
class Shape:
    name: str
    hangup: Hangup
    hangup_wait_ms: int
    lines: Callable[[dict[str, Path]], list[CallerLine]]


SHAPES = [
    Shape("ask_then_bye", "remote", 25000, lambda a: [
        CallerLine(a["ru_hours"], pause_before_ms=7000),
        CallerLine(a["ru_bye"], pause_before_ms=12000)]),
    Shape("hang_up_mid_answer", "caller", 2500, lambda a: [
        CallerLine(a["ru_hours"], pause_before_ms=7000)]),
    Shape("silent_hang_up", "caller", 5000, lambda a: []),
    Shape("two_questions", "remote", 25000, lambda a: [
        CallerLine(a["ru_hours"], pause_before_ms=7000),
        CallerLine(a["ru_hours"], pause_before_ms=10000),
        CallerLine(a["ru_bye"], pause_before_ms=10000)]),
]


@dataclass
class Resources:
    rss_kib: int
    fds: int
    threads: int

    @classmethod
    def of(cls, pid: int) -> Resources:
        status = Path(f"/proc/{pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return cls(rss_kib=int(fields["VmRSS"].split()[0]),
                   fds=len(list(Path(f"/proc/{pid}/fd").iterdir())),
                   threads=int(fields["Threads"]))


def _asterisk_left() -> tuple[int, int]:
    with httpx.Client(auth=AUTH, timeout=10) as client:
        channels = client.get(f"{ARI}/channels").json()
        bridges = client.get(f"{ARI}/bridges").json()
    return len(channels), len(bridges)


async def _slot(slot: int, audio: dict[str, Path], work: Path, until: float,
                rng: random.Random, outcomes: list[tuple[str, CallResult]],
                first_done: asyncio.Event, go: asyncio.Event, slots_done: list[int],
                slots: int) -> None:
    await asyncio.sleep(slot * 0.25)  # all slots calling within 10 s
    n = 0
    while time.monotonic() < until:
        shape = rng.choice(SHAPES)
        workdir = work / f"slot{slot}-{n}"
        result = await place_call(
            exten="100", utterances=shape.lines(audio), workdir=workdir,
            hangup=shape.hangup, hangup_wait_ms=shape.hangup_wait_ms, timeout_s=240,
        )
        outcomes.append((shape.name, result))
        if result.sipp_rc == 0:
            shutil.rmtree(workdir, ignore_errors=True)  # keep only failed calls' files
        if n == 0:  # the warm-up: wait until every slot's first call is over and counted
            slots_done.append(slot)
            if len(slots_done) == slots:
                first_done.set()
            await go.wait()
        n += 1
        await asyncio.sleep(rng.uniform(1.0, 5.0))


async def _sample(pid: int, series: list[int], threads: list[int]) -> None:
    """Resident memory (MiB) and threads every SAMPLE_EVERY_S: a pool that grows to its
    bound levels off, a leak does not."""
    while True:
        now = Resources.of(pid)
        series.append(now.rss_kib // 1024)
        threads.append(now.threads)
        await asyncio.sleep(SAMPLE_EVERY_S)


async def _soak(slots: int, minutes: float, audio: dict[str, Path], work: Path,
                pid: int, series: list[int], threads: list[int]
                ) -> tuple[list[tuple[str, CallResult]], Resources]:
    until = time.monotonic() + minutes * 60
    outcomes: list[tuple[str, CallResult]] = []
    first_done, go = asyncio.Event(), asyncio.Event()
    done: list[int] = []
    rngs = [random.Random(SEED + slot) for slot in range(slots)]
    tasks = [asyncio.ensure_future(_slot(i, audio, work, until, rngs[i], outcomes,
                                         first_done, go, done, slots)) for i in range(slots)]
    await first_done.wait()
    await asyncio.sleep(SETTLE_S)  # no call live: the warm, quiet baseline
    warm = Resources.of(pid)
    go.set()
    print(f"warm: {len(outcomes)} calls over, {warm}", flush=True)
    sampler = asyncio.ensure_future(_sample(pid, series, threads))
    await asyncio.gather(*tasks)
    sampler.cancel()
    return outcomes, warm


def run(slots: int, minutes: float, write: Callable[[str], None] | None, machine: str
        ) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    audio = caller_lines(work / "audio")
    with LocalApp(write_config(work, {}), work / "secretary.log") as app:
        assert app.proc is not None
        started = Resources.of(app.proc.pid)
        series: list[int] = []
        thread_series: list[int] = []
        outcomes, warm = asyncio.run(_soak(slots, minutes, audio, work / "calls", app.proc.pid,
                                           series, thread_series))
        time.sleep(SETTLE_S)
        end = Resources.of(app.proc.pid)
        channels, bridges = _asterisk_left()
        samples = read_samples(httpx.get(METRICS, timeout=10).text)
        refused = round(sum(v for k, v in samples.items()
                            if k.startswith("secretary_calls_refused_total")))
    with sqlite3.connect(work / "calls.sqlite3") as db:
        records = db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
        still_open = db.execute("SELECT COUNT(*) FROM calls WHERE ended_at IS NULL").fetchone()[0]
        ended_by = dict(db.execute("SELECT ended_by, COUNT(*) FROM calls GROUP BY ended_by"))
    shapes = Counter(name for name, _ in outcomes)
    failed = [name for name, r in outcomes if r.sipp_rc != 0]
    fd_leak = max(0, end.fds - warm.fds)
    thread_leak = max(0, end.threads - warm.threads)
    growth = end.rss_kib / warm.rss_kib - 1
    half = series[len(series) // 2] if series else warm.rss_kib // 1024
    late_growth = end.rss_kib / 1024 / half - 1  # the second half of the soak
    summary: dict[str, Any] = {
        "benchmark": "soak", "slots": slots, "minutes": minutes, "calls": len(outcomes),
        "calls_by_shape": dict(shapes), "calls_refused": refused,
        "calls_failed_at_caller": len(failed),
        "records": records, "ended_by": ended_by,
        "channels_left": channels, "bridges_left": bridges,
        "fd": [started.fds, warm.fds, end.fds], "threads": [started.threads, warm.threads,
                                                           end.threads],
        "rss_mib": [round(r.rss_kib / 1024) for r in (started, warm, end)],
        "soak_leaks": channels + bridges + fd_leak + thread_leak,
        "soak_rss_growth": round(growth, 3),
        "soak_rss_growth_second_half": round(late_growth, 3),
        "rss_mib_series": series,
        "threads_series": thread_series,
        "records_open_after": still_open,
    }
    print(summary, flush=True)
    lines = [
        f"## Soak ({time.strftime('%Y-%m-%d')})", "",
        f"Machine: {machine}. config/testbed.yaml. {slots} caller slots on the Russian line "
        f"for {minutes:g} minutes, each calling again 1-5 s after its last call ended; the "
        f"shapes (seeded): {', '.join(f'{k} {v}' for k, v in sorted(shapes.items()))}. "
        f"{len(outcomes)} calls; {refused} refused at saturation (sent unanswered to the "
        f"line's fallback, which has no staff phone in the testbed: {len(failed)} calls "
        f"failed at the caller, sipp); {records} records, ended by: "
        f"{', '.join(f'{k} {v}' for k, v in sorted(ended_by.items(), key=str))}.", "",
        "| | at start | warm (first calls over, none live) | end (all calls over) |",
        "|---|---|---|---|",
        f"| RSS MiB | {summary['rss_mib'][0]} | {summary['rss_mib'][1]} | "
        f"{summary['rss_mib'][2]} |",
        f"| open fds | {started.fds} | {warm.fds} | {end.fds} |",
        f"| threads | {started.threads} | {warm.threads} | {end.threads} |", "",
        f"Left behind: {channels} channels, {bridges} bridges in Asterisk, "
        f"{still_open} records without an end. soak_leaks {summary['soak_leaks']}, "
        f"soak_rss_growth {growth:.1%} (warm to end; second half of the soak "
        f"{late_growth:.1%}), records_open_after {still_open}. Resident memory every "
        f"{SAMPLE_EVERY_S:.0f} s, MiB: {', '.join(map(str, series))}; threads: "
        f"{', '.join(map(str, thread_series))}.",
    ]
    print("\n".join(lines))
    if write is not None:
        write("\n".join(lines))
    return summary
