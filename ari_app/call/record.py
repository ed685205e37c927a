"""One call's entries in the call store: the call itself, its turns, a message left, a
transfer, the recordings. A write that fails is logged and the call goes on: the caller
must not hear a database error."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from ari_app.call.ending import EndReason
from ari_app.notify.message import StaffMessage
from ari_app.storage import CallStore

log = logging.getLogger(__name__)


class CallRecord:
    def __init__(self, store: CallStore, call_id: str, loop: asyncio.AbstractEventLoop,
                 on_failure: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.call_id = call_id
        self.loop = loop
        self.on_failure = on_failure  # told what could not be written (metrics)

    def _failed(self, what: str) -> None:
        """A write that failed (`what`: open, turn, drop_turns, message, transfer, close)."""
        log.exception("call %s: could not write its record (%s)", self.call_id, what)
        if self.on_failure is not None:
            self.on_failure(what)

    def wall(self, loop_time: float) -> float:
        """The wall-clock time of a loop time (the record keeps wall-clock times)."""
        return time.time() - (self.loop.time() - loop_time)

    async def open(self, channel_id: str, line: str, endpoint: str, caller_id: str,
                   language: str) -> None:
        try:
            await self.store.start_call(
                self.call_id, channel_id, line, endpoint, caller_id, language
            )
        except Exception:
            self._failed("open")

    async def turn(
        self,
        who: Literal["caller", "secretary"],
        text: str,
        start: float,
        end: float,
        timings: dict[str, float],
    ) -> int | None:
        """Store a turn (loop times); its row index, or None if it could not be stored."""
        try:
            return await self.store.add_turn(
                self.call_id, who, text, self.wall(start), self.wall(end),
                {k: round(v, 1) for k, v in timings.items()},
            )
        except Exception:
            self._failed("turn")
            return None

    async def drop_turns(self, rows: list[int]) -> None:
        try:
            await self.store.drop_turns(self.call_id, rows)
        except Exception:
            self._failed("drop_turns")

    async def message(self, message: StaffMessage) -> int:
        """Store a message the caller left; its id, or 0 if it could not be stored."""
        fields = {
            "language": message.language, "name": message.name,
            "callback_number": message.callback_number, "reason": message.reason,
            "urgency": message.urgency, "caller_id": message.caller_id,
        }
        try:
            return await self.store.add_message(self.call_id, fields)
        except Exception:
            self._failed("message")
            return 0

    async def transferred(self, target: str) -> None:
        try:
            await self.store.set_transferred(self.call_id, target)
        except Exception:
            self._failed("transfer")

    async def close(self, ended_by: EndReason, error: str | None,
                    recordings: tuple[Path, Path] | None) -> None:
        try:
            if recordings is not None:
                await self.store.set_recordings(
                    self.call_id, str(recordings[0]), str(recordings[1])
                )
            await self.store.end_call(self.call_id, ended_by, error)
        except Exception:
            self._failed("close")
