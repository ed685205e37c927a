"""The background tasks of one call (the audio pump, the watchdog, the reply draft, record
writes) in one `asyncio.TaskGroup`, which the session enters for the call's whole life: when
the call ends, nothing it started is left running or unawaited.

Unlike a bare TaskGroup, a task that fails is logged and the call goes on (a watchdog that
could not renew must not hang up the caller), and `stop()` cancels what runs in the
background but lets record writes finish, before the call's record is closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class CallTasks:
    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self._group = asyncio.TaskGroup()
        self._cancellable: set[asyncio.Task[Any]] = set()
        self._running: set[asyncio.Task[Any]] = set()
        self._open = False

    async def __aenter__(self) -> CallTasks:
        await self._group.__aenter__()
        self._open = True
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._open = False
        for task in self._cancellable:
            task.cancel()
        await self._group.__aexit__(kind, exc, tb)

    def spawn(self, work: Coroutine[Any, Any, T], name: str, *, cancel_on_stop: bool = True
              ) -> asyncio.Task[T | None] | None:
        """Run `work` in the call's group. `cancel_on_stop=False` for what must finish (a
        record write). None, and `work` is dropped, once the call is over."""
        if not self._open:
            work.close()
            log.debug("call %s: %s not started, the call is over", self.call_id, name)
            return None
        task = self._group.create_task(self._guarded(work, name), name=f"{name}-{self.call_id}")
        task.add_done_callback(lambda _: work.close())  # cancelled before it began: no warning
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        if cancel_on_stop:
            self._cancellable.add(task)
            task.add_done_callback(self._cancellable.discard)
        return task

    async def _guarded(self, work: Coroutine[Any, Any, T], name: str) -> T | None:
        try:
            return await work
        except Exception:
            log.exception("call %s: %s failed", self.call_id, name)
            return None

    async def stop(self) -> None:
        """Cancel the background tasks, let record writes finish, and await them all; no
        new task starts after this."""
        self._open = False
        for task in self._cancellable:
            task.cancel()
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    @property
    def running(self) -> int:
        return len(self._running)
