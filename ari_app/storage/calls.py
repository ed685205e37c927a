"""The call record: calls, their turns and the messages callers left, in the database that
`database.py` opens (an SQLite file, or PostgreSQL shared by several boxes).

All times are unix timestamps (float seconds). Every database failure is raised as
`StorageError`; the call session decides whether to carry on without a record.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement

from ari_app.call.ending import EndReason
from ari_app.notify.message import STORED
from ari_app.storage.database import Database, StorageError
from ari_app.storage.tables import calls, messages, turns

Who = Literal["caller", "secretary"]

MAX_CALL_S = 6 * 3600  # a reply in a window belongs to a call started at most this long before

_MESSAGE_FIELDS = STORED  # what StaffMessage.stored() hands over
_CALL_COLUMNS = [c for c in calls.c]
_MESSAGE_COLUMNS = [c for c in messages.c]
_TURN_COLUMNS = [turns.c[n] for n in ("id", "call_id", "idx", "who", "text", "started_at",
                                      "ended_at", "timings")]


def _newest_first(table: Any) -> tuple[ColumnElement[Any], ...]:
    """The order of a list of calls (of `calls` or a page cut from it): newest first, ties
    by call_id; on `calls` both come from one index, no sort (calls_started_at, or
    calls_line_started_at for a line)."""
    return (table.c.started_at.desc(), table.c.call_id.desc())


CALL_SEARCH_ORDER = _newest_first(calls)


class CallStore:
    """Async access to the call record. `await open()` / `await close()` or `async with`.

    `target` is the SQLite file or a postgresql:// URL; `node` names this box in every call
    it starts (storage.node)."""

    def __init__(self, target: Path | str, *, node: str | None = None,
                 busy_timeout_ms: int = 5000) -> None:
        self.db = Database(target, busy_timeout_ms=busy_timeout_ms)
        self.node = node

    @property
    def path(self) -> Path:
        """The SQLite file (StorageError for a database server)."""
        if self.db.path is None:
            raise StorageError(f"{self.db.name}: a database server, not a file")
        return self.db.path

    async def __aenter__(self) -> CallStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()

    async def fill_pool(self) -> None:
        """Open every connection now (see Database.fill_pool): for a long-running process."""
        await self.db.fill_pool()

    async def _read(self, what: str, query: Any) -> list[RowMapping]:
        async with self.db.reading(what) as conn:
            return list((await conn.execute(query)).mappings().all())

    async def _write(self, what: str, statement: Any) -> int:
        async with self.db.transaction(what) as conn:
            return int((await conn.execute(statement)).rowcount or 0)

    # --- writes ------------------------------------------------------------------------

    async def close_orphans(self, reason: EndReason = EndReason.APP_CRASHED) -> int:
        """Close every call of this node left without an end (its process was killed): it
        ended when its last turn did, or when it started if it has none. Returns how many.
        Another node's open calls are its own (they may be live); calls without a node
        (recorded before records named one) are everybody's."""
        last_turn = (
            select(func.max(func.coalesce(turns.c.ended_at, turns.c.started_at)))
            .where(turns.c.call_id == calls.c.call_id).scalar_subquery()
        )
        # calls recorded before records named their node were this box's too
        mine: ColumnElement[bool] = calls.c.node.is_(None)
        if self.node is not None:
            mine = or_(mine, calls.c.node == self.node)
        return await self._write("close orphaned calls", calls.update().where(
            calls.c.ended_at.is_(None), mine,
        ).values(
            ended_by=EndReason.parse(reason).value,
            error=func.coalesce(calls.c.error, "left open by a process that stopped mid-call"),
            ended_at=func.coalesce(last_turn, calls.c.started_at),
        ))  # fmt: skip

    async def start_call(
        self,
        call_id: str,
        channel_id: str,
        line: str | None,
        endpoint: str | None,
        caller_id: str | None,
        language: str,
        started_at: float | None = None,
    ) -> None:
        await self._write(f"record the start of call {call_id}", calls.insert().values(
            call_id=call_id, channel_id=channel_id, line=line, endpoint=endpoint,
            caller_id=caller_id, language=language, node=self.node,
            started_at=time.time() if started_at is None else started_at,
        ))  # fmt: skip

    async def add_turn(
        self,
        call_id: str,
        who: Who,
        text: str,
        started_at: float,
        ended_at: float,
        timings: dict[str, float] | None = None,
    ) -> int:
        """Append a turn to the call; returns its index (0, 1, ...) within the call."""
        if who not in ("caller", "secretary"):
            raise ValueError(f"who must be 'caller' or 'secretary', got {who!r}")
        timings = timings or {}
        v2v = timings.get("v2v_ms")
        async with self.db.transaction(f"add a turn to call {call_id}") as conn:
            # the call's row locked (on a server; SQLite has one writer) while its next
            # index is taken
            await conn.execute(select(calls.c.call_id).where(calls.c.call_id == call_id)
                               .with_for_update())
            idx = int((await conn.execute(
                select(func.coalesce(func.max(turns.c.idx) + 1, 0))
                .where(turns.c.call_id == call_id)
            )).scalar_one())
            await conn.execute(turns.insert().values(
                call_id=call_id, idx=idx, who=who, text=text, folded=text.casefold(),
                started_at=started_at, ended_at=ended_at,
                timings=json.dumps(timings, sort_keys=True),
                v2v_ms=float(v2v) if isinstance(v2v, (int, float)) else None,
            ))  # fmt: skip
        return idx

    async def drop_turns(self, call_id: str, indexes: list[int]) -> int:
        """Remove turns that a merged turn replaces (the caller went on before hearing a
        reply: their two parts become one turn); returns how many were removed."""
        if not indexes:
            return 0
        return await self._write(
            f"drop turns {indexes} of call {call_id}",
            turns.delete().where(turns.c.call_id == call_id, turns.c.idx.in_(indexes)),
        )

    async def end_call(
        self,
        call_id: str,
        ended_by: EndReason | str,
        error: str | None = None,
        ended_at: float | None = None,
    ) -> bool:
        """Record the end of a call. The first end wins: an already ended call is left as is.

        Returns whether the call was updated.
        """
        reason = EndReason.parse(ended_by)
        changed = await self._write(
            f"record the end of call {call_id}",
            calls.update().where(calls.c.call_id == call_id, calls.c.ended_at.is_(None))
            .values(ended_at=time.time() if ended_at is None else ended_at,
                    ended_by=reason.value, error=error),
        )
        return changed > 0

    async def set_recordings(
        self, call_id: str, caller_wav: Path | str | None, secretary_wav: Path | str | None
    ) -> None:
        await self._write(
            f"record the recordings of call {call_id}",
            calls.update().where(calls.c.call_id == call_id).values(
                caller_wav=None if caller_wav is None else str(caller_wav),
                secretary_wav=None if secretary_wav is None else str(secretary_wav)),
        )

    async def set_transferred(self, call_id: str, target: str, by: str | None = None) -> None:
        """The call was put through to `target`, by the console user `by` (None: the
        secretary itself)."""
        await self._write(
            f"record the transfer of call {call_id}",
            calls.update().where(calls.c.call_id == call_id)
            .values(transferred_to=target, transferred_by=by),
        )

    async def add_message(self, call_id: str | None, message: dict[str, Any]) -> int:
        """Store a message a caller left; returns its id. Keys: language, name,
        callback_number, reason, urgency, caller_id (missing ones stay empty), confirmed
        (missing: true)."""
        values = {k: message.get(k) for k in _MESSAGE_FIELDS}
        values["urgency"] = values["urgency"] or "normal"
        values["confirmed"] = values["confirmed"] is not False
        async with self.db.transaction("store a message") as conn:
            result = await conn.execute(
                messages.insert().values(call_id=call_id, created_at=time.time(), **values)
            )
            key = result.inserted_primary_key
        return int(key[0]) if key else 0

    async def set_notified(self, message_id: int, outcome: dict[str, str]) -> None:
        """Which staff channels the message reached ({"smtp": "ok", "webhook": "error: ..."})."""
        await self._write(
            f"record the notification of message {message_id}",
            messages.update().where(messages.c.id == message_id)
            .values(notified=json.dumps(outcome, sort_keys=True)),
        )

    async def set_handled(self, message_id: int, handled: bool, by: str | None,
                          at: float | None = None) -> bool:
        """Mark a message handled by the console user `by` (or not handled); whether there
        is such a message."""
        changed = await self._write(
            f"mark message {message_id} handled",
            messages.update().where(messages.c.id == int(message_id)).values(
                handled_at=(time.time() if at is None else at) if handled else None,
                handled_by=by if handled else None),
        )
        return changed > 0

    # --- reads -------------------------------------------------------------------------

    async def messages(self, limit: int = 50, since: float | None = None) -> list[dict[str, Any]]:
        """Messages, newest first."""
        rows = await self._read("list messages", select(*_MESSAGE_COLUMNS).where(
            messages.c.created_at >= (since or 0.0)
        ).order_by(messages.c.created_at.desc()).limit(int(limit)))
        return [_message_dict(row) for row in rows]

    async def message_page(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Messages, newest first (the later stored first among equal times)."""
        rows = await self._read("list messages", select(*_MESSAGE_COLUMNS).order_by(
            messages.c.created_at.desc(), messages.c.id.desc()
        ).limit(int(limit)).offset(int(offset)))
        return [_message_dict(row) for row in rows]

    async def get_message(self, message_id: int) -> dict[str, Any] | None:
        rows = await self._read(f"read message {message_id}", select(*_MESSAGE_COLUMNS)
                                .where(messages.c.id == int(message_id)))
        return _message_dict(rows[0]) if rows else None

    async def turns(self, call_id: str) -> list[dict[str, Any]]:
        rows = await self._read(
            f"read the turns of call {call_id}",
            select(*_TURN_COLUMNS).where(turns.c.call_id == call_id).order_by(turns.c.idx),
        )
        return [_with_json(row, "timings") for row in rows]

    async def get_call(self, call_id: str) -> dict[str, Any] | None:
        """The call's row as a dict plus `duration_s` and `turns`; None if there is no such call."""
        rows = await self._read(f"read call {call_id}",
                                select(*_CALL_COLUMNS).where(calls.c.call_id == call_id))
        if not rows:
            return None
        call = _call_dict(rows[0])
        call["turns"] = await self.turns(call_id)
        return call

    async def list_calls(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest calls first, each with `duration_s` and `turn_count` (no turns)."""
        rows = await self._read("list calls", call_search_query([], limit=limit))
        return [_call_dict(row) for row in rows]

    async def search_calls(
        self, limit: int = 50, offset: int = 0, **filters: Any
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of calls, newest first, each with `duration_s` and `turn_count`, and how
        many calls match in all. Filters: see `call_search_where`."""
        where = call_search_where(**filters)
        rows = await self._read("search calls", call_search_query(where, limit, offset))
        counted = await self._read(
            "count calls", select(func.count().label("n")).select_from(calls).where(*where)
        )
        return [_call_dict(row) for row in rows], int(counted[0]["n"]) if counted else 0

    async def call_counts(self, since: float, until: float) -> dict[str, int]:
        """Calls started in [since, until): all, put through to staff, still without an end;
        and the messages left in that time."""
        rows = await self._read("count the calls", select(
            func.count().label("calls"), func.count(calls.c.transferred_to).label("transferred"),
            (func.count() - func.count(calls.c.ended_at)).label("unended"),
        ).where(calls.c.started_at >= since, calls.c.started_at < until))
        left = await self._read("count the messages", select(func.count().label("n")).where(
            messages.c.created_at >= since, messages.c.created_at < until))
        counts = {k: int(v or 0) for k, v in rows[0].items()}
        return {**counts, "messages": int(left[0]["n"] or 0)}

    async def reply_latencies(self, since: float, until: float) -> list[tuple[float, float]]:
        """(when, voice-to-voice ms) of every reply spoken in [since, until), oldest first."""
        recent_calls = select(calls.c.call_id).where(  # the calls' index, not every turn
            calls.c.started_at >= since - MAX_CALL_S, calls.c.started_at < until)
        rows = await self._read("read the reply latencies", select(
            turns.c.started_at, turns.c.v2v_ms
        ).where(
            turns.c.call_id.in_(recent_calls), turns.c.who == "secretary",
            turns.c.started_at >= since, turns.c.started_at < until, turns.c.v2v_ms.is_not(None),
        ).order_by(turns.c.started_at))  # fmt: skip
        return [(float(r["started_at"]), float(r["v2v_ms"])) for r in rows]


def call_search_where(
    started_from: float | None = None,
    started_to: float | None = None,
    line: str | None = None,
    caller: str | None = None,
    ended_by: str | None = None,
    words: str | None = None,
    node: str | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions of a call search: started in [started_from, started_to), on `line`,
    taken by `node`, caller ID containing `caller`, ended by `ended_by`, and every word of
    `words` somewhere in the call's turns, case-blind in any script (the turns' folded
    text)."""
    where: list[ColumnElement[bool]] = []
    if started_from is not None:
        where.append(calls.c.started_at >= float(started_from))
    if started_to is not None:
        where.append(calls.c.started_at < float(started_to))
    if line:
        where.append(calls.c.line == line)
    if node:
        where.append(calls.c.node == node)
    if caller:
        where.append(calls.c.caller_id.contains(caller, autoescape=True))
    if ended_by:
        where.append(calls.c.ended_by == ended_by)
    for word in (words or "").split():
        where.append(exists().where(and_(
            turns.c.call_id == calls.c.call_id,
            turns.c.folded.contains(word.casefold(), autoescape=True),
        )))  # fmt: skip
    return where


def call_search_query(where: list[ColumnElement[bool]], limit: int | None = None,
                      offset: int = 0) -> Select[Any]:
    """The calls matching `where`, newest first, with their turn counts; a page of them when
    `limit` is given. The page is cut before the turns are counted: PostgreSQL evaluates a
    select list's subqueries on the rows an OFFSET skips too (10x slower deep in 100,000
    calls)."""
    page = select(*_CALL_COLUMNS).where(*where).order_by(*CALL_SEARCH_ORDER)
    if limit is not None:
        page = page.limit(int(limit)).offset(int(offset))
    cut = page.subquery("page")
    count = (select(func.count()).where(turns.c.call_id == cut.c.call_id)
             .scalar_subquery().label("turn_count"))
    return select(*cut.c, count).order_by(*_newest_first(cut))


def _with_json(row: RowMapping, column: str) -> dict[str, Any]:
    """The row as a dict, its JSON `column` read ({} if it is not JSON)."""
    item = dict(row)
    try:
        item[column] = json.loads(item[column] or "{}")
    except ValueError:
        item[column] = {}
    return item


def _message_dict(row: RowMapping) -> dict[str, Any]:
    item = _with_json(row, "notified")
    item["handled"] = item["handled_at"] is not None
    item["confirmed"] = bool(item["confirmed"])
    return item


def _call_dict(row: RowMapping) -> dict[str, Any]:
    call = dict(row)
    ended, started = call.get("ended_at"), call.get("started_at")
    call["duration_s"] = None if ended is None or started is None else ended - started
    return call


__all__ = ["CALL_SEARCH_ORDER", "MAX_CALL_S", "CallStore", "StorageError", "call_search_query",
           "call_search_where"]
