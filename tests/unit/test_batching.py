"""The dynamic batcher (ari_app/stt/batching.py) with a fake engine (named so) whose
batches run on the event loop when the test opens a gate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from ari_app.stt.batching import Batcher


class FakeEngine:
    """Doubles numbers, a batch at a time; each batch waits for the test's `release()`."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on
        self._gates: asyncio.Queue[None] = asyncio.Queue()

    def run(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        if self.fail_on in items:
            raise RuntimeError("the fake engine failed")
        return [2 * i for i in items]

    async def submit(self, run: Callable[[], list[int]]) -> list[int]:
        await self._gates.get()
        return run()

    def release(self) -> None:
        self._gates.put_nowait(None)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_an_idle_batcher_runs_a_request_alone_and_at_once() -> None:
    engine = FakeEngine()
    batcher = Batcher(engine.run, engine.submit, max_batch=8)
    request = asyncio.ensure_future(batcher(21))
    await settle()
    assert batcher.running == 1 and batcher.waiting == 0
    engine.release()
    assert await request == 42
    assert engine.batches == [[21]]


async def test_requests_arriving_while_busy_run_together_up_to_max_batch() -> None:
    engine = FakeEngine()
    batcher = Batcher(engine.run, engine.submit, max_batch=3)
    first = asyncio.ensure_future(batcher(1))
    await settle()
    later = [asyncio.ensure_future(batcher(i)) for i in range(2, 7)]
    await settle()
    assert batcher.waiting == 5 and batcher.running == 1
    for _ in range(3):
        engine.release()
    assert await first == 2
    assert await asyncio.gather(*later) == [4, 6, 8, 10, 12]
    assert engine.batches == [[1], [2, 3, 4], [5, 6]]
    assert batcher.largest == 3 and batcher.waiting == 0 and batcher.running == 0


async def test_a_failed_batch_fails_its_requests_and_the_next_batch_runs() -> None:
    engine = FakeEngine(fail_on=3)
    batcher = Batcher(engine.run, engine.submit, max_batch=2)
    first = asyncio.ensure_future(batcher(1))
    await settle()
    failing = [asyncio.ensure_future(batcher(i)) for i in (2, 3)]
    after = asyncio.ensure_future(batcher(4))
    await settle()
    for _ in range(3):
        engine.release()
    assert await first == 2
    for request in failing:
        with pytest.raises(RuntimeError, match="fake engine failed"):
            await request
    assert await after == 8


async def test_a_request_whose_caller_has_gone_is_not_run() -> None:
    engine = FakeEngine()
    batcher = Batcher(engine.run, engine.submit, max_batch=8)
    first = asyncio.ensure_future(batcher(1))
    await settle()
    gone = asyncio.ensure_future(batcher(2))
    kept = asyncio.ensure_future(batcher(3))
    await settle()
    gone.cancel()
    engine.release()
    engine.release()
    assert await first == 2 and await kept == 6
    assert engine.batches == [[1], [3]]


def test_a_batch_of_none_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Batcher(FakeEngine().run, FakeEngine().submit, max_batch=0)


async def test_with_a_key_a_batch_holds_one_key_oldest_first() -> None:
    engine = FakeEngine()
    batcher = Batcher(engine.run, engine.submit, max_batch=2, key=lambda i: i % 2)
    first = asyncio.ensure_future(batcher(1))
    await settle()
    later = [asyncio.ensure_future(batcher(i)) for i in (2, 3, 5, 4, 6, 7)]
    await settle()
    for _ in range(5):
        engine.release()
    await asyncio.gather(first, *later)
    assert engine.batches == [[1], [2, 4], [3, 5], [6], [7]]
