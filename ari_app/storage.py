"""The call record: one SQLite database (WAL) with calls, their turns and the messages
callers left.

All times are unix timestamps (float seconds). Every database failure (full disk, locked
database, closed store) is raised as `StorageError`; the call session decides whether to
carry on without a record, nothing is swallowed here.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Literal

import aiosqlite

from ari_app.call.ending import EndReason
from ari_app.errors import SecretaryError

SCHEMA_VERSION = 3

Who = Literal["caller", "secretary"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id       TEXT PRIMARY KEY,
    channel_id    TEXT,
    line          TEXT,
    endpoint      TEXT,
    caller_id     TEXT,
    language      TEXT,
    started_at    REAL NOT NULL,
    ended_at      REAL,
    ended_by      TEXT,
    error         TEXT,
    caller_wav    TEXT,
    secretary_wav TEXT,
    transferred_to TEXT,
    transferred_by TEXT
);
CREATE INDEX IF NOT EXISTS calls_started_at ON calls(started_at);
CREATE INDEX IF NOT EXISTS calls_line_started_at ON calls(line, started_at);
CREATE TABLE IF NOT EXISTS turns (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id    TEXT NOT NULL REFERENCES calls(call_id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    who        TEXT NOT NULL CHECK (who IN ('caller', 'secretary')),
    text       TEXT NOT NULL,
    started_at REAL,
    ended_at   REAL,
    timings    TEXT NOT NULL DEFAULT '{}',
    UNIQUE (call_id, idx)
);
CREATE TABLE IF NOT EXISTS messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id         TEXT REFERENCES calls(call_id) ON DELETE SET NULL,
    created_at      REAL NOT NULL,
    language        TEXT,
    name            TEXT,
    callback_number TEXT,
    reason          TEXT,
    urgency         TEXT NOT NULL DEFAULT 'normal',
    caller_id       TEXT,
    notified        TEXT NOT NULL DEFAULT '{}',
    handled_at      REAL,
    handled_by      TEXT
);
CREATE INDEX IF NOT EXISTS messages_created_at ON messages(created_at);
"""

# Columns added after version 1 (table, column, type), for databases made by an older
# program; each is added where it is missing (a table the schema just made has them all).
_MIGRATIONS = {
    2: (("calls", "transferred_to", "TEXT"),),
    3: (("calls", "transferred_by", "TEXT"), ("messages", "handled_at", "REAL"),
        ("messages", "handled_by", "TEXT")),
}
_MESSAGE_FIELDS = ("language", "name", "callback_number", "reason", "urgency", "caller_id")
_MESSAGE_COLUMNS = (
    "id, call_id, created_at, language, name, callback_number, reason, urgency, caller_id, "
    "notified, handled_at, handled_by"
)

# newest first, ties in the order stored: both from one index, no sort (calls_started_at, or
# calls_line_started_at for a line; the rowid is in every index)
CALL_SEARCH_ORDER = "ORDER BY started_at DESC, calls.rowid DESC"

_CALL_COLUMNS = (
    "call_id, channel_id, line, endpoint, caller_id, language, started_at, ended_at, "
    "ended_by, error, caller_wav, secretary_wav, transferred_to, transferred_by"
)


class StorageError(SecretaryError):
    """The call database could not be read or written; the message says what and why."""


MAX_CALL_S = 6 * 3600  # a reply in a window belongs to a call started at most this long before


class CallStore:
    """Async access to the call database. Use `await open()` / `await close()` or `async with`."""

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> CallStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        if self._db is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self.path, timeout=self._busy_timeout_ms / 1000)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"{self.path}: cannot open the call database: {exc}") from exc
        try:
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA foreign_keys=ON")
            # case-blind search in any script (LIKE folds only Latin letters)
            await db.create_function("secretary_casefold", 1, _casefold, deterministic=True)
            await db.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            async with db.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise StorageError(
                    f"{self.path}: database schema version {version} is newer than this "
                    f"program's ({SCHEMA_VERSION}); upgrade the secretary or use another file"
                )
            await db.executescript(_SCHEMA)
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for table, column, kind in _MIGRATIONS.get(step, ()):
                    if column not in await _columns(db, table):
                        await db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            if version < SCHEMA_VERSION:
                await db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            await db.commit()
        except sqlite3.Error as exc:
            await db.close()
            raise StorageError(f"{self.path}: cannot prepare the call database: {exc}") from exc
        except StorageError:
            await db.close()
            raise
        self._db = db

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            try:
                await db.close()
            except sqlite3.Error as exc:
                raise StorageError(f"{self.path}: error closing the call database: {exc}") from exc

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError(f"{self.path}: the call store is not open")
        return self._db

    async def _write(self, what: str, sql: str, params: tuple[Any, ...]) -> int:
        """Run one statement and commit; returns the number of rows changed."""
        try:
            return await write_one(self._conn(), self._lock, sql, params)
        except sqlite3.Error as exc:
            raise StorageError(f"{self.path}: cannot {what}: {exc}") from exc

    async def _read(self, what: str, sql: str, params: tuple[Any, ...]) -> list[aiosqlite.Row]:
        db = self._conn()
        try:
            async with db.execute(sql, params) as cur:
                return list(await cur.fetchall())
        except sqlite3.Error as exc:
            raise StorageError(f"{self.path}: cannot {what}: {exc}") from exc

    # --- writes ------------------------------------------------------------------------

    async def close_orphans(self, reason: EndReason = EndReason.APP_CRASHED) -> int:
        """Close every call left without an end (its process was killed): it ended when its
        last turn did, or when it started if it has none. Returns how many."""
        return await self._write(
            "close orphaned calls",
            "UPDATE calls SET ended_by = ?, error = COALESCE(error, ?), ended_at = COALESCE("
            "(SELECT MAX(COALESCE(t.ended_at, t.started_at)) FROM turns t "
            "WHERE t.call_id = calls.call_id), started_at) WHERE ended_at IS NULL",
            (EndReason.parse(reason).value, "left open by a process that stopped mid-call"),
        )

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
        await self._write(
            f"record the start of call {call_id}",
            "INSERT INTO calls (call_id, channel_id, line, endpoint, caller_id, language, "
            "started_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (call_id, channel_id, line, endpoint, caller_id, language,
             time.time() if started_at is None else started_at),
        )  # fmt: skip

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
        timings_json = json.dumps(timings or {}, sort_keys=True)
        db = self._conn()
        async with self._lock:
            try:
                async with db.execute(
                    "SELECT COALESCE(MAX(idx) + 1, 0) FROM turns WHERE call_id = ?", (call_id,)
                ) as cur:
                    row = await cur.fetchone()
                idx = int(row[0]) if row else 0
                await db.execute(
                    "INSERT INTO turns (call_id, idx, who, text, started_at, ended_at, timings) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (call_id, idx, who, text, started_at, ended_at, timings_json),
                )
                await db.commit()
            except sqlite3.Error as exc:
                await _rollback(db)
                raise StorageError(
                    f"{self.path}: cannot add a turn to call {call_id}: {exc}"
                ) from exc
        return idx

    async def drop_turns(self, call_id: str, indexes: list[int]) -> int:
        """Remove turns that a merged turn replaces (the caller went on before hearing a
        reply: their two parts become one turn); returns how many were removed."""
        if not indexes:
            return 0
        marks = ", ".join("?" for _ in indexes)
        return await self._write(
            f"drop turns {indexes} of call {call_id}",
            f"DELETE FROM turns WHERE call_id = ? AND idx IN ({marks})", (call_id, *indexes),
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
            "UPDATE calls SET ended_at = ?, ended_by = ?, error = ? "
            "WHERE call_id = ? AND ended_at IS NULL",
            (time.time() if ended_at is None else ended_at, reason.value, error, call_id),
        )
        return changed > 0

    async def set_recordings(
        self, call_id: str, caller_wav: Path | str | None, secretary_wav: Path | str | None
    ) -> None:
        await self._write(
            f"record the recordings of call {call_id}",
            "UPDATE calls SET caller_wav = ?, secretary_wav = ? WHERE call_id = ?",
            (
                None if caller_wav is None else str(caller_wav),
                None if secretary_wav is None else str(secretary_wav),
                call_id,
            ),
        )

    async def set_transferred(self, call_id: str, target: str, by: str | None = None) -> None:
        """The call was put through to `target`, by the console user `by` (None: the
        secretary itself)."""
        await self._write(
            f"record the transfer of call {call_id}",
            "UPDATE calls SET transferred_to = ?, transferred_by = ? WHERE call_id = ?",
            (target, by, call_id),
        )

    async def add_message(self, call_id: str | None, message: dict[str, Any]) -> int:
        """Store a message a caller left; returns its id. Keys: language, name,
        callback_number, reason, urgency, caller_id (missing ones stay empty)."""
        values = tuple(message.get(k) for k in _MESSAGE_FIELDS)
        db = self._conn()
        async with self._lock:
            try:
                cur = await db.execute(
                    f"INSERT INTO messages (call_id, created_at, {', '.join(_MESSAGE_FIELDS)}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (call_id, time.time(), *values[:4], values[4] or "normal", values[5]),
                )
                message_id = int(cur.lastrowid or 0)
                await cur.close()
                await db.commit()
            except sqlite3.Error as exc:
                await _rollback(db)
                raise StorageError(f"{self.path}: cannot store a message: {exc}") from exc
        return message_id

    async def set_notified(self, message_id: int, outcome: dict[str, str]) -> None:
        """Which staff channels the message reached ({"smtp": "ok", "webhook": "error: ..."})."""
        await self._write(
            f"record the notification of message {message_id}",
            "UPDATE messages SET notified = ? WHERE id = ?",
            (json.dumps(outcome, sort_keys=True), message_id),
        )

    # --- reads -------------------------------------------------------------------------
    async def messages(self, limit: int = 50, since: float | None = None) -> list[dict[str, Any]]:
        """Messages, newest first."""
        rows = await self._read(
            "list messages",
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE created_at >= ? "
            "ORDER BY created_at DESC LIMIT ?",
            (since or 0.0, int(limit)),
        )
        return [_message_dict(row) for row in rows]

    async def turns(self, call_id: str) -> list[dict[str, Any]]:
        rows = await self._read(
            f"read the turns of call {call_id}",
            "SELECT id, call_id, idx, who, text, started_at, ended_at, timings FROM turns "
            "WHERE call_id = ? ORDER BY idx",
            (call_id,),
        )
        return [_with_json(row, "timings") for row in rows]

    async def get_call(self, call_id: str) -> dict[str, Any] | None:
        """The call's row as a dict plus `duration_s` and `turns`; None if there is no such call."""
        rows = await self._read(
            f"read call {call_id}",
            f"SELECT {_CALL_COLUMNS} FROM calls WHERE call_id = ?",
            (call_id,),
        )
        if not rows:
            return None
        call = _call_dict(rows[0])
        call["turns"] = await self.turns(call_id)
        return call

    async def list_calls(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest calls first, each with `duration_s` and `turn_count` (no turns)."""
        rows = await self._read(
            "list calls",
            f"SELECT {_CALL_COLUMNS}, "
            "(SELECT COUNT(*) FROM turns t WHERE t.call_id = calls.call_id) AS turn_count "
            "FROM calls ORDER BY started_at DESC LIMIT ?",
            (int(limit),),
        )
        return [_call_dict(row) for row in rows]

    async def search_calls(
        self, limit: int = 50, offset: int = 0, **filters: Any
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of calls, newest first, each with `duration_s` and `turn_count`, and how
        many calls match in all. Filters: see `call_search_where`."""
        where, params = call_search_where(**filters)
        rows = await self._read(
            "search calls",
            f"SELECT {_CALL_COLUMNS}, "
            "(SELECT COUNT(*) FROM turns t WHERE t.call_id = calls.call_id) AS turn_count "
            f"FROM calls{where} {CALL_SEARCH_ORDER} LIMIT ? OFFSET ?",
            (*params, int(limit), int(offset)),
        )
        counted = await self._read(
            "count calls", f"SELECT COUNT(*) FROM calls{where}", params
        )
        return [_call_dict(row) for row in rows], int(counted[0][0]) if counted else 0

    async def call_counts(self, since: float, until: float) -> dict[str, int]:
        """Calls started in [since, until): all, put through to staff, still without an end;
        and the messages left in that time."""
        rows = await self._read(
            "count the calls",
            "SELECT COUNT(*), COUNT(transferred_to), COUNT(*) - COUNT(ended_at) FROM calls "
            "WHERE started_at >= ? AND started_at < ?", (since, until),
        )
        messages = await self._read(
            "count the messages",
            "SELECT COUNT(*) FROM messages WHERE created_at >= ? AND created_at < ?",
            (since, until),
        )
        calls, transferred, open_ = (int(v or 0) for v in rows[0])
        return {"calls": calls, "transferred": transferred, "unended": open_,
                "messages": int(messages[0][0] or 0)}

    async def reply_latencies(self, since: float, until: float) -> list[tuple[float, float]]:
        """(when, voice-to-voice ms) of every reply spoken in [since, until), oldest first."""
        rows = await self._read(
            "read the reply latencies",
            "SELECT started_at, json_extract(timings, '$.v2v_ms') AS v2v FROM turns "
            "WHERE call_id IN (SELECT call_id FROM calls WHERE started_at >= ? "
            "AND started_at < ?) "  # the calls' index, not a scan of every turn
            "AND who = 'secretary' AND started_at >= ? AND started_at < ? "
            "AND v2v IS NOT NULL ORDER BY started_at",
            (since - MAX_CALL_S, until, since, until),
        )
        return [(float(r[0]), float(r[1])) for r in rows]

    async def message_page(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Messages, newest first (the later stored first among equal times)."""
        rows = await self._read(
            "list messages",
            f"SELECT {_MESSAGE_COLUMNS} FROM messages ORDER BY created_at DESC, id DESC "
            "LIMIT ? OFFSET ?",
            (int(limit), int(offset)),
        )
        return [_message_dict(row) for row in rows]

    async def set_handled(self, message_id: int, handled: bool, by: str | None,
                          at: float | None = None) -> bool:
        """Mark a message handled by the console user `by` (or not handled); whether there
        is such a message."""
        changed = await self._write(
            f"mark message {message_id} handled",
            "UPDATE messages SET handled_at = ?, handled_by = ? WHERE id = ?",
            ((time.time() if at is None else at) if handled else None,
             by if handled else None, int(message_id)),
        )
        return changed > 0

    async def get_message(self, message_id: int) -> dict[str, Any] | None:
        rows = await self._read(
            f"read message {message_id}",
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (int(message_id),),
        )
        return _message_dict(rows[0]) if rows else None


async def _rollback(db: aiosqlite.Connection) -> None:
    try:
        await db.rollback()
    except sqlite3.Error:
        pass  # the original error is the one worth reporting


async def write_one(db: aiosqlite.Connection, lock: asyncio.Lock, sql: str,
                    params: tuple[Any, ...]) -> int:
    """Run one statement and commit, under `lock`; the number of rows changed. On an
    sqlite3.Error the transaction is rolled back and the error raised for the caller to
    name (the call store and the console's accounts share this)."""
    async with lock:
        try:
            cur = await db.execute(sql, params)
            changed = cur.rowcount
            await cur.close()
            await db.commit()
        except sqlite3.Error:
            await _rollback(db)
            raise
    return changed


def _with_json(row: aiosqlite.Row, column: str) -> dict[str, Any]:
    """The row as a dict, its JSON `column` read ({} if it is not JSON)."""
    item = dict(row)
    try:
        item[column] = json.loads(item[column] or "{}")
    except ValueError:
        item[column] = {}
    return item


def _message_dict(row: aiosqlite.Row) -> dict[str, Any]:
    item = _with_json(row, "notified")
    item["handled"] = item["handled_at"] is not None
    return item


def _casefold(text: object) -> object:
    return text.casefold() if isinstance(text, str) else text


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere (its % and _ taken literally, escape '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def call_search_where(
    started_from: float | None = None,
    started_to: float | None = None,
    line: str | None = None,
    caller: str | None = None,
    ended_by: str | None = None,
    words: str | None = None,
) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause (with its leading space, or "") and parameters for a call search:
    started in [started_from, started_to), on `line`, caller ID containing `caller`, ended
    by `ended_by`, and every word of `words` somewhere in the call's turns, case-blind in any
    script (through `secretary_casefold`, which `CallStore.open` gives its connection)."""
    clauses: list[str] = []
    params: list[Any] = []
    if started_from is not None:
        clauses.append("started_at >= ?")
        params.append(float(started_from))
    if started_to is not None:
        clauses.append("started_at < ?")
        params.append(float(started_to))
    if line:
        clauses.append("line = ?")
        params.append(line)
    if caller:
        clauses.append("caller_id LIKE ? ESCAPE '\\'")
        params.append(_like(caller))
    if ended_by:
        clauses.append("ended_by = ?")
        params.append(ended_by)
    for word in (words or "").split():
        clauses.append(
            "EXISTS (SELECT 1 FROM turns t WHERE t.call_id = calls.call_id "
            "AND secretary_casefold(t.text) LIKE ? ESCAPE '\\')"
        )
        params.append(_like(word.casefold()))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


async def _columns(db: aiosqlite.Connection, table: str) -> set[str]:
    async with db.execute(f"PRAGMA table_info({table})") as cur:
        return {str(row[1]) for row in await cur.fetchall()}


def _call_dict(row: aiosqlite.Row) -> dict[str, Any]:
    call = dict(row)
    ended, started = call.get("ended_at"), call.get("started_at")
    call["duration_s"] = None if ended is None or started is None else ended - started
    return call

