"""The console's accounts and its audit log: two tables beside the call record (the same
SQLite file is fine), passwords as argon2id hashes (argon2-cffi).

Roles: `admin` (everything, incl. the audit log) and `receptionist` (calls and messages).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ari_app.errors import SecretaryError
from ari_app.storage import write_one

ROLES = ("admin", "receptionist")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS console_users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'receptionist')),
    password_hash TEXT NOT NULL,
    created_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS console_audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      REAL NOT NULL,
    who     TEXT,
    what    TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS console_audit_at ON console_audit(at);
"""


class UserError(SecretaryError):
    """A console account could not be added, removed or read; the message says why."""


class UserStore:
    """Accounts and the audit log. `await open()` / `await close()` or `async with`."""

    def __init__(
        self,
        path: Path | str,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self._hasher = hasher or PasswordHasher()
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._dummy_hash: str | None = None

    async def __aenter__(self) -> UserStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        if self._db is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self.path, timeout=5.0)
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA busy_timeout=5000")
            await db.executescript(_SCHEMA)
            await db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise UserError(f"{self.path}: cannot open the console accounts: {exc}") from exc
        self._db = db

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise UserError(f"{self.path}: the console accounts are not open")
        return self._db

    async def _execute(self, what: str, sql: str, params: tuple[Any, ...]) -> int:
        """One statement, committed; an IntegrityError is raised as it is."""
        try:
            return await write_one(self._conn(), self._lock, sql, params)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise UserError(f"{self.path}: cannot {what}: {exc}") from exc

    async def _rows(self, what: str, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        try:
            async with self._conn().execute(sql, params) as cur:
                return [dict(row) for row in await cur.fetchall()]
        except sqlite3.Error as exc:
            raise UserError(f"{self.path}: cannot {what}: {exc}") from exc

    # --- accounts ----------------------------------------------------------------------

    async def add(self, name: str, role: str, password: str) -> None:
        name = name.strip()
        if not name:
            raise UserError("the user name is empty")
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}")
        if not password:
            raise UserError("the password is empty")
        hashed = await asyncio.to_thread(self._hasher.hash, password)
        try:
            await self._execute(
                f"add user {name}",
                "INSERT INTO console_users (name, role, password_hash, created_at) "
                "VALUES (?, ?, ?, ?)",
                (name, role, hashed, self.clock()),
            )
        except sqlite3.IntegrityError as exc:
            raise UserError(f"a user named {name!r} already exists") from exc

    async def remove(self, name: str) -> bool:
        """Whether there was such a user."""
        changed = await self._execute(
            f"remove user {name}", "DELETE FROM console_users WHERE name = ?", (name,)
        )
        return changed > 0

    async def update(self, name: str, *, role: str | None = None,
                     password: str | None = None) -> bool:
        """Change a user's role and/or password; whether there was such a user."""
        if role is not None and role not in ROLES:
            raise UserError(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}")
        if password is not None and not password:
            raise UserError("the password is empty")
        changed = 1
        if role is not None:
            changed = await self._execute(
                f"change the role of {name}",
                "UPDATE console_users SET role = ? WHERE name = ?", (role, name),
            )
        if password is not None and changed:
            hashed = await asyncio.to_thread(self._hasher.hash, password)
            changed = await self._execute(
                f"change the password of {name}",
                "UPDATE console_users SET password_hash = ? WHERE name = ?", (hashed, name),
            )
        return changed > 0 and await self.get(name) is not None

    async def get(self, name: str) -> dict[str, Any] | None:
        """{"name", "role", "created_at"}, or None."""
        rows = await self._rows(
            f"read user {name}",
            "SELECT name, role, created_at FROM console_users WHERE name = ?", (name,),
        )
        return rows[0] if rows else None

    async def list_users(self) -> list[dict[str, Any]]:
        return await self._rows(
            "list users", "SELECT name, role, created_at FROM console_users ORDER BY name", ()
        )

    async def check_password(self, name: str, password: str) -> dict[str, Any] | None:
        """The user if the password is theirs, else None. An unknown name costs the same
        hashing work as a known one, so the answer's timing does not say which names exist."""
        rows = await self._rows(
            f"read user {name}",
            "SELECT name, role, created_at, password_hash FROM console_users WHERE name = ?",
            (name,),
        )
        if rows:
            stored = str(rows[0].pop("password_hash"))
        else:
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(self._hasher.hash, "not a password")
            stored = self._dummy_hash
        try:
            await asyncio.to_thread(self._hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return rows[0] if rows else None

    # --- the audit log -----------------------------------------------------------------

    async def audit(self, who: str | None, what: str, **details: Any) -> None:
        await self._execute(
            f"write the audit entry {what}",
            "INSERT INTO console_audit (at, who, what, details) VALUES (?, ?, ?, ?)",
            (self.clock(), who, what, json.dumps(details, sort_keys=True)),
        )

    async def audit_log(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Newest first."""
        rows = await self._rows(
            "read the audit log",
            "SELECT id, at, who, what, details FROM console_audit "
            "ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
            (int(limit), int(offset)),
        )
        for row in rows:
            try:
                row["details"] = json.loads(row["details"] or "{}")
            except ValueError:
                row["details"] = {}
        return rows
