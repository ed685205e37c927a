"""An asyncio event loop on a virtual clock, for unit tests of whole calls.

Its clock moves only when nothing is ready to run: where the loop would wait for its next
timer, it jumps to it instead. A call that lasts a minute (greetings, pauses, re-prompts,
20 ms frames paced by the clock) runs in a fraction of a second, and every time the code
under test reads from `loop.time()` is exactly what its sleeps and timeouts made it,
whatever the machine's speed. Socket I/O still works (it is checked before each jump), but
a test must not depend on work in other threads: the clock would jump past it. Use fakes
that stay on the loop.

    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        runner.run(main())
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any

STUCK_AFTER_S = 30.0  # real seconds with no timer and no I/O: the test is stuck


class _Clock:
    def __init__(self, start: float) -> None:
        self.now = start


class _JumpingSelector(selectors.BaseSelector):
    """The loop's selector: reports ready I/O at once; with none, moves the clock to the
    loop's next timer (the timeout it was given) instead of sleeping."""

    def __init__(self, inner: selectors.BaseSelector, clock: _Clock) -> None:
        self._inner = inner
        self._clock = clock

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(
        self, timeout: float | None = None
    ) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer at all: only I/O (or another thread) can wake us
            ready = self._inner.select(STUCK_AFTER_S)
            if not ready:
                raise RuntimeError(
                    f"virtual clock: no timer and no I/O for {STUCK_AFTER_S:.0f} s: stuck"
                )
            return ready
        self._clock.now += timeout
        return []

    def close(self) -> None:
        self._inner.close()

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.get_key(fileobj)

    def get_map(self) -> Any:
        return self._inner.get_map()


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose `time()` is virtual (see the module's docstring)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._virtual = _Clock(start)
        super().__init__(_JumpingSelector(selectors.DefaultSelector(), self._virtual))

    def time(self) -> float:
        return self._virtual.now
