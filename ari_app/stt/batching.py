"""Dynamic batching for an engine shared by every call: requests that arrive while the
engine is busy wait for the next batch, together, instead of one after the other. An idle
engine starts a request at once, so batching never adds a wait; a busy one runs everything
that came meanwhile (up to `max_batch`) in one pass, which costs a batched model (Whisper's
encoder and decoder in CTranslate2) much less than as many single passes."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741  # an item to process
R = TypeVar("R")  # its result


class Batcher(Generic[I, R]):
    """`await batcher(item)`: the result of `run([..., item, ...])[i]`.

    `run` is blocking (it is given to `submit`, which runs it off the event loop, in the
    engine's worker) and returns one result per item, in order. It may raise: every item of
    that batch then raises the same error. With `key`, a batch holds only items of one key
    (Whisper: one window length, so nothing is padded): the oldest waiting item's, with the
    others of that key in order of arrival. `waiting` and `running` count items (a queue
    depth for /metrics)."""

    def __init__(
        self,
        run: Callable[[list[I]], list[R]],
        submit: Callable[[Callable[[], list[R]]], Awaitable[list[R]]],
        max_batch: int = 8,
        key: Callable[[I], Hashable] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._run = run
        self._submit = submit
        self.max_batch = max_batch
        self._key = key
        self._queue: list[tuple[I, asyncio.Future[R]]] = []
        self._driver: asyncio.Task[None] | None = None
        self.running = 0
        self.batches = 0  # batches run (for tests and the log)
        self.largest = 0  # the largest batch run

    @property
    def waiting(self) -> int:
        return len(self._queue)

    async def __call__(self, item: I) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._driver is None or self._driver.done():
            self._driver = asyncio.create_task(self._drive(), name="batcher")
        return await future

    async def _drive(self) -> None:
        while self._queue:
            self._queue = [(i, f) for i, f in self._queue if not f.done()]  # callers gone
            taken = self._take()
            if not taken:
                continue
            items = [item for item, _ in taken]
            self.running = len(items)
            self.batches += 1
            self.largest = max(self.largest, len(items))
            try:
                results = await self._submit(functools.partial(self._run, items))
                if len(results) != len(items):
                    raise RuntimeError(
                        f"a batch of {len(items)} gave {len(results)} results")
            except asyncio.CancelledError:  # the loop is going: nobody gets an answer
                for _, future in taken + self._queue:
                    future.cancel()
                self._queue.clear()
                raise
            except Exception as exc:
                for _, future in taken:
                    if not future.done():
                        future.set_exception(exc)
                continue
            finally:
                self.running = 0
            for (_, future), result in zip(taken, results, strict=True):
                if not future.done():
                    future.set_result(result)

    def _take(self) -> list[tuple[I, asyncio.Future[R]]]:
        """The next batch, out of the queue."""
        if self._key is None or not self._queue:
            taken, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
            return taken
        key = self._key(self._queue[0][0])
        taken, rest = [], []
        for entry in self._queue:
            if len(taken) < self.max_batch and self._key(entry[0]) == key:
                taken.append(entry)
            else:
                rest.append(entry)
        self._queue = rest
        return taken
