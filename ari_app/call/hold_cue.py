"""A caller is never left in silence while their words are slow to come.

When many calls share the box, a finished turn can wait seconds for the recogniser (24
callers asking at once on 2 cores: 4-5 s, docs/benchmarks.md). A person on the phone who
hears nothing for that long says "hello?" or hangs up. So when the first words of a turn
are not in `turn.hold_cue_ms` after the caller's last word, the secretary says the
persona's short "one moment" (`Mind.hold_on`) and the answer follows it.

Never over the caller: the cue is said only if they have been quiet since their turn
ended (a turn ended at a pause they then went on from is theirs, not a wait), and the
session stops it, as any reply, the moment they speak; their turn then goes on, and a cue
is armed again for the end of what they said (a cut cue told them nothing).

The cue is played on its own, not through the session's reply path: the turn may still be
listening for the rest of the caller's words (a number being dictated), so the listener
goes on listening while it plays. The answer waits until it has been
said, and the call's record keeps it at the head of the answer's row, as the caller heard
them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ari_app.call.speaker import Spoken


class HoldCue:
    """A hold cue for one speech of a turn: armed when it ends, said at most once, if at
    `due` (loop time) the turn's words are still awaited and the caller has said nothing
    since. The session arms another for more speech the turn takes in, unless this one
    is `spent`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        due: float,
        awaited: Callable[[], bool],
        quiet: Callable[[], bool],
        say: Callable[[], Awaitable[Spoken]],
        spawn: Callable[[Coroutine[Any, Any, Spoken]], asyncio.Task[Spoken | None] | None],
    ) -> None:
        self._awaited = awaited
        self._quiet = quiet
        self._say = say
        self._spawn = spawn
        self._task: asyncio.Task[Spoken | None] | None = None
        self._timer = loop.call_at(due, self._due)

    def _due(self) -> None:
        if self._awaited() and self._quiet():
            self._task = self._spawn(self._said())

    async def _said(self) -> Spoken:
        return await self._say()

    def spent(self) -> bool:
        """Said, or being said, and not stopped by the caller: the turn has had its cue."""
        task = self._task
        if task is None:
            return False
        if not task.done():
            return True
        spoken = None if task.cancelled() or task.exception() else task.result()
        return spoken is not None and spoken.barge_onset is None

    def disarm(self) -> None:
        """The words are in: no cue from now on (one already begun goes on)."""
        self._timer.cancel()

    async def said(self) -> Spoken | None:
        """The cue as the caller heard it, once it has been said; None if it was not (or
        its voice failed: the call's task group logged it, and the answer still comes)."""
        self.disarm()
        return None if self._task is None else await self._task
