"""Record writes the database refused (disk full, read-only, locked), kept in order and
written when it takes them again, so that a call's record is never lost silently.

A call whose write was refused queues its later writes behind it (a turn cannot be stored
before its call). The app retries every few seconds; what is still waiting when it stops is
saved to a file (JSON lines, `storage.spool`) and written at the next start. `secretary
doctor` says when that file holds writes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from ari_app.storage import CallStore, StorageError

log = logging.getLogger(__name__)

Op = Literal["start_call", "add_turn", "drop_turns", "add_message", "set_transferred",
             "set_recordings", "end_call"]
OPS: frozenset[str] = frozenset(get_args(Op))
RETRY_S = 5.0


@dataclass(frozen=True)
class Write:
    """One call to a `CallStore` method, with its keyword arguments (JSON values only)."""

    op: Op
    call_id: str
    args: dict[str, Any]


class RecordSpool:
    def __init__(self, store: CallStore, path: Path) -> None:
        self.store = store
        self.path = path
        self.pending: list[Write] = []
        self._lock = asyncio.Lock()  # one writer at a time keeps the order

    def waiting(self) -> int:
        return len(self.pending)

    async def submit(self, write: Write) -> Any:
        """Write now (the store's result), or keep it behind this call's waiting writes
        (None). A refused write is kept; any other error (a bug, bad input) is raised."""
        async with self._lock:
            if any(w.call_id == write.call_id for w in self.pending):
                self._keep(write, "behind its call's earlier writes")
                return None
            try:
                return await self._apply(write)
            except StorageError as exc:
                self._keep(write, str(exc))
                return None

    def _keep(self, write: Write, why: str) -> None:
        self.pending.append(write)
        log.warning("call %s: record write %s kept to write later (%d waiting): %s",
                    write.call_id, write.op, len(self.pending), why)

    async def _apply(self, write: Write) -> Any:
        return await getattr(self.store, write.op)(write.call_id, **write.args)

    async def flush(self) -> int:
        """Write what waits, in order, until the store refuses again; how many still wait."""
        async with self._lock:
            while self.pending:
                write = self.pending[0]
                try:
                    await self._apply(write)
                except StorageError as exc:
                    log.debug("record spool: %d writes still waiting: %s", len(self.pending), exc)
                    break
                except (ValueError, TypeError) as exc:  # a spool file from elsewhere
                    log.error("record spool: dropping a write that cannot be done (%s): %s",
                              exc, write)
                self.pending.pop(0)
            else:
                log.info("record spool: every waiting write is in the database")
            return len(self.pending)

    async def run(self, every_s: float = RETRY_S) -> None:
        """Retry the waiting writes while the app runs."""
        while True:
            await asyncio.sleep(every_s)
            if self.pending:
                await self.flush()

    def save(self) -> None:
        """The waiting writes to the spool file (the app is stopping). If even that fails,
        they go to the log, whole."""
        if not self.pending:
            self.path.unlink(missing_ok=True)
            return
        lines = "".join(json.dumps(asdict(w), ensure_ascii=False) + "\n" for w in self.pending)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(self.path.name + ".part")
            partial.write_text(lines, encoding="utf-8")
            os.replace(partial, self.path)
            log.warning("record spool: %d writes saved to %s; written at the next start",
                        len(self.pending), self.path)
        except OSError as exc:
            log.error("record spool: cannot save %d writes to %s (%s); they are:\n%s",
                      len(self.pending), self.path, exc, lines)

    def load(self) -> int:
        """The writes a previous run saved, put first in line; how many."""
        saved = read_spool(self.path)
        self.pending[:0] = saved
        return len(saved)


def read_spool(path: Path) -> list[Write]:
    """The writes in a spool file; a line that is not one is skipped with an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    writes = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            data = json.loads(line)
            if data["op"] not in OPS or not isinstance(data["args"], dict):
                raise ValueError(f"not a record write: {line[:80]}")
            writes.append(Write(data["op"], str(data["call_id"]), data["args"]))
        except (ValueError, KeyError, TypeError) as exc:
            log.error("%s:%d: skipped: %s", path, number, exc)
    return writes
