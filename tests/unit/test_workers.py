"""The loop's worker threads and the call store's connections: started whole, the same
number after any load. Threads are counted by name among those started during the test
(other tests' threads may come and go meanwhile)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from ari_app.storage import CallStore
from ari_app.storage.database import SQLITE_POOL
from ari_app.workers import PREFIX, start_workers


class NewThreads:
    """Threads alive now that were not alive when this was made, by a part of their name."""

    def __init__(self) -> None:
        self.before = {t.ident for t in threading.enumerate()}

    def named(self, part: str) -> int:
        return sum(1 for t in threading.enumerate()
                   if t.ident not in self.before and part in t.name)


def test_the_workers_are_all_started_before_any_work_and_never_grow() -> None:
    async def run() -> tuple[int, int, int]:
        new = NewThreads()
        executor = await start_workers(5)
        started = new.named(PREFIX + "_")
        # more blocking jobs at once than workers: they queue, no thread is added
        await asyncio.gather(*(asyncio.to_thread(time.sleep, 0.01) for _ in range(40)))
        after = new.named(PREFIX + "_")
        executor.shutdown(wait=True)
        return started, after, new.named(PREFIX + "_")

    started, after, shut = asyncio.run(run())
    assert started == 5
    assert after == 5
    assert shut == 0


def test_without_them_the_default_pool_grows_with_the_load() -> None:
    """What start_workers prevents (so the test above can fail): Python's own default
    executor starts threads as jobs pile up."""
    async def run() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        new = NewThreads()
        idle = new.named("asyncio_")
        go = threading.Event()
        jobs = [loop.run_in_executor(None, go.wait, 30) for _ in range(3)]  # all held
        busy = new.named("asyncio_")
        go.set()
        await asyncio.gather(*jobs)
        return idle, busy

    idle, busy = asyncio.run(run())
    assert idle == 0 and busy == 3


def test_a_sqlite_pool_filled_at_start_opens_no_connection_under_load(tmp_path: Path) -> None:
    """CallStore on a real SQLite file: after fill_pool, twenty reads at once open no
    connection (aiosqlite gives each its own thread), so the count stays put."""
    async def run() -> tuple[int, int]:
        new = NewThreads()
        async with CallStore(tmp_path / "calls.sqlite3") as store:
            await store.fill_pool()
            filled = new.named("_connection_worker_thread")
            await asyncio.gather(*(store.list_calls(limit=5) for _ in range(20)))
            return filled, new.named("_connection_worker_thread")

    filled, loaded = asyncio.run(run())
    assert filled == SQLITE_POOL
    assert loaded == SQLITE_POOL
