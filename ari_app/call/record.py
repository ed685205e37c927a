"""One call's entries in the call store: the call itself, its turns, a message left, a
transfer, the recordings. A write that fails is logged and the call goes on: the caller
must not hear a database error. With a spool (`record_spool.py`), a write the database
refuses (disk full, locked, read-only) is kept and written later instead of being lost."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from ari_app.call.ending import EndReason
from ari_app.notify.message import StaffMessage
from ari_app.record_spool import Op, RecordSpool, Write
from ari_app.storage import CallStore

log = logging.getLogger(__name__)


class CallRecord:
    def __init__(self, store: CallStore, call_id: str, loop: asyncio.AbstractEventLoop,
                 on_failure: Callable[[str], None] | None = None,
                 spool: RecordSpool | None = None) -> None:
        self.store = store
        self.call_id = call_id
        self.loop = loop
        self.on_failure = on_failure  # told what could not be written (metrics)
        self.spool = spool

    async def _write(self, what: str, op: Op, **args: Any) -> Any:
        """Do one write (through the spool when there is one); None when it failed or was
        kept for later. `what` names it in the log and /metrics: open, turn, drop_turns,
        message, transfer, recordings, close."""
        write = Write(op, self.call_id, args)
        try:
            if self.spool is not None:
                return await self.spool.submit(write)
            return await getattr(self.store, op)(self.call_id, **args)
        except Exception:
            log.exception("call %s: could not write its record (%s)", self.call_id, what)
            if self.on_failure is not None:
                self.on_failure(what)
            return None

    def wall(self, loop_time: float) -> float:
        """The wall-clock time of a loop time (the record keeps wall-clock times)."""
        return time.time() - (self.loop.time() - loop_time)

    async def open(self, channel_id: str, line: str, endpoint: str, caller_id: str,
                   language: str) -> None:
        await self._write("open", "start_call", channel_id=channel_id, line=line,
                          endpoint=endpoint, caller_id=caller_id, language=language,
                          started_at=time.time())

    async def turn(
        self,
        who: Literal["caller", "secretary"],
        text: str,
        start: float,
        end: float,
        timings: dict[str, float],
    ) -> int | None:
        """Store a turn (loop times); its row index, or None if it was not stored now."""
        row = await self._write("turn", "add_turn", who=who, text=text,
                                started_at=self.wall(start), ended_at=self.wall(end),
                                timings={k: round(v, 1) for k, v in timings.items()})
        return row if isinstance(row, int) else None

    async def drop_turns(self, rows: list[int]) -> None:
        await self._write("drop_turns", "drop_turns", indexes=rows)

    async def message(self, message: StaffMessage) -> int:
        """Store a message the caller left; its id, or 0 if it was not stored now."""
        message_id = await self._write("message", "add_message", message=message.stored())
        return message_id if isinstance(message_id, int) else 0

    async def transferred(self, target: str, by: str | None = None) -> None:
        """Put through to `target`, by a console operator named `by` (None: the secretary)."""
        await self._write("transfer", "set_transferred", target=target, by=by)

    async def close(self, ended_by: EndReason, error: str | None,
                    recordings: tuple[Path, Path] | None) -> None:
        if recordings is not None:
            await self._write("recordings", "set_recordings", caller_wav=str(recordings[0]),
                              secretary_wav=str(recordings[1]))
        await self._write("close", "end_call", ended_by=ended_by.value, error=error,
                          ended_at=time.time())
