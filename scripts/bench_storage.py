"""`bench.py storage`: the console's queries on a call record of N calls (default 100,000,
three turns each), in an SQLite file and in a real PostgreSQL (Debian's, started in a
temporary directory by testkit.postgres), through the program's own CallStore.

Per backend and query, the median and p95 of 20 runs: the call list's first page, a line's
first page, a page deep in the list, a search for words in the turns, the dashboard's
counts and reply latencies for a day; and a turn written during a call."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ari_app.storage import CallStore
from ari_app.storage.tables import calls, turns
from testkit.postgres import PostgresServer

T0 = 1_780_000_000.0
RUNS = 20
BATCH = 5_000
WORDS = ("счёт", "доставка", "hours", "перезвоните", "договор", "invoice", "адрес", "price")


def _rows(n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(7)
    call_rows, turn_rows = [], []
    for i in range(n):
        started = T0 + i * 30.0  # a call every 30 s: 100,000 calls are five weeks
        call_id = f"b{i:07d}"
        call_rows.append({
            "call_id": call_id, "channel_id": f"ch{i}", "line": ("ru-gsm", "en-sip")[i % 2],
            "endpoint": "PJSIP/trunk", "caller_id": f"+7916{rng.randrange(10**7):07d}",
            "language": "ru", "started_at": started, "ended_at": started + 25.0,
            "ended_by": "caller_hangup", "node": ("box-a", "box-b")[i % 2],
        })  # fmt: skip
        words = rng.sample(WORDS, 2)
        for idx, (who, text) in enumerate((
            ("secretary", "Здравствуйте, компания слушает."),
            ("caller", f"Вопрос про {words[0]} и {words[1]}, {i}"),
            ("secretary", "Записала, передам."),
        )):
            turn_rows.append({
                "call_id": call_id, "idx": idx, "who": who, "text": text,
                "folded": text.casefold(), "started_at": started + 2 * idx,
                "ended_at": started + 2 * idx + 1, "timings": "{}",
                "v2v_ms": 600.0 + rng.random() * 400 if who == "secretary" and idx else None,
            })  # fmt: skip
    return call_rows, turn_rows


async def _fill(store: CallStore, n: int) -> float:
    call_rows, turn_rows = _rows(n)
    began = time.perf_counter()
    for table, rows in ((calls, call_rows), (turns, turn_rows)):
        for at in range(0, len(rows), BATCH):
            async with store.db.transaction("fill the benchmark") as conn:
                await conn.execute(table.insert(), rows[at:at + BATCH])
    if store.db.is_sqlite:
        async with store.db.transaction("analyze") as conn:
            await conn.exec_driver_sql("ANALYZE")
    else:
        async with store.db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


async def _time(run: Callable[[], Awaitable[Any]]) -> list[float]:
    await run()  # warm
    took = []
    for _ in range(RUNS):
        began = time.perf_counter()
        await run()
        took.append((time.perf_counter() - began) * 1000)
    return took


async def _measure(target: Path | str, n: int) -> dict[str, Any]:
    async with CallStore(target, node="bench") as store:
        fill_s = await _fill(store, n)
        last = T0 + (n - 1) * 30.0
        day = (last - 86400, last + 1)
        seq = iter(range(10**6))
        await store.start_call("live", "ch", "ru-gsm", None, None, "ru", started_at=last + 5)
        queries: dict[str, Callable[[], Awaitable[Any]]] = {
            "call list, first page": lambda: store.search_calls(50, 0),
            "a line's first page": lambda: store.search_calls(50, 0, line="en-sip"),
            "a page deep in the list": lambda: store.search_calls(50, n // 2),
            "words in the turns": lambda: store.search_calls(50, 0, words="договор invoice"),
            "dashboard counts, a day": lambda: store.call_counts(*day),
            "dashboard latencies, a day": lambda: store.reply_latencies(*day),
            "a turn written": lambda: store.add_turn("live", "caller", f"t{next(seq)}", 1, 2),
        }
        return {"fill_s": fill_s,
                "ms": {name: await _time(run) for name, run in queries.items()}}


def run(n: int, write: Callable[[str], None] | None, machine: str,
        p50_p95: Callable[[list[float]], tuple[float, float]]) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = asyncio.run(_measure(Path(tmp) / "calls.sqlite3", n))
    server = PostgresServer().start()
    try:
        url = asyncio.run(server.database())
        results["postgresql"] = asyncio.run(_measure(url, n))
    finally:
        server.stop()
    names = list(results["sqlite"]["ms"])
    lines = [f"## Call record: the console's queries on {n:,} calls",
             "", f"{machine}; {time.strftime('%Y-%m-%d')}. `scripts/bench.py storage -n {n}`: "
             "three turns a call, through the program's CallStore; PostgreSQL 15 from Debian "
             "on loopback (durability off, a throwaway server). Milliseconds over "
             f"{RUNS} runs.", "",
             "| query | SQLite p50 | SQLite p95 | PostgreSQL p50 | PostgreSQL p95 |",
             "|---|---|---|---|---|"]
    summary: dict[str, Any] = {"calls": n}
    for name in names:
        s50, s95 = p50_p95(results["sqlite"]["ms"][name])
        g50, g95 = p50_p95(results["postgresql"]["ms"][name])
        lines.append(f"| {name} | {s50} | {s95} | {g50} | {g95} |")
    for backend, result in results.items():
        p95 = p50_p95(result["ms"]["call list, first page"])[1]
        summary[f"{backend}_call_list_p95_ms"] = p95
        summary[f"{backend}_words_search_p95_ms"] = p50_p95(result["ms"]["words in the turns"])[1]
        summary[f"{backend}_fill_s"] = round(result["fill_s"], 1)
    lines += ["", f"Filling took {summary['sqlite_fill_s']} s (SQLite) and "
              f"{summary['postgresql_fill_s']} s (PostgreSQL). Target: the call list under "
              "100 ms on each."]
    section = "\n".join(lines)
    print(section)
    if write is not None:
        write(section)
    return summary
