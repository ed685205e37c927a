"""The console's accounts and its audit log: two tables beside the call record (in its
database: `storage/tables.py`), passwords as argon2id hashes (argon2-cffi).

Roles: `admin` (everything, incl. the audit log) and `receptionist` (calls and messages).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ari_app.errors import SecretaryError
from ari_app.storage import Database, StorageError
from ari_app.storage.tables import console_audit, console_users

ROLES = ("admin", "receptionist")
_USER_COLUMNS = (console_users.c.name, console_users.c.role, console_users.c.created_at)


class UserError(SecretaryError):
    """A console account could not be added, removed or read; the message says why."""


class UserStore:
    """Accounts and the audit log. `await open()` / `await close()` or `async with`.

    `target`: the call database (its SQLite file or postgresql:// URL)."""

    def __init__(
        self,
        target: Path | str,
        *,
        hasher: PasswordHasher | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = Database(target)
        self.clock = clock
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    async def __aenter__(self) -> UserStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        try:
            await self.db.open()
        except StorageError as exc:
            raise UserError(f"cannot open the console accounts: {exc}") from exc

    async def close(self) -> None:
        await self.db.close()

    async def _execute(self, what: str, statement: Any) -> int:
        """One statement, committed; an IntegrityError is raised as it is."""
        try:
            async with self.db.transaction(what) as conn:
                return int((await conn.execute(statement)).rowcount or 0)
        except StorageError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise exc.__cause__ from None
            raise UserError(str(exc)) from exc

    async def _rows(self, what: str, query: Any) -> list[dict[str, Any]]:
        try:
            async with self.db.reading(what) as conn:
                return [dict(row) for row in (await conn.execute(query)).mappings()]
        except StorageError as exc:
            raise UserError(str(exc)) from exc

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
            await self._execute(f"add user {name}", console_users.insert().values(
                name=name, role=role, password_hash=hashed, created_at=self.clock()))
        except IntegrityError as exc:
            raise UserError(f"a user named {name!r} already exists") from exc

    async def remove(self, name: str) -> bool:
        """Whether there was such a user."""
        changed = await self._execute(
            f"remove user {name}", console_users.delete().where(console_users.c.name == name)
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
                console_users.update().where(console_users.c.name == name).values(role=role),
            )
        if password is not None and changed:
            hashed = await asyncio.to_thread(self._hasher.hash, password)
            changed = await self._execute(
                f"change the password of {name}",
                console_users.update().where(console_users.c.name == name)
                .values(password_hash=hashed),
            )
        return changed > 0 and await self.get(name) is not None

    async def get(self, name: str) -> dict[str, Any] | None:
        """{"name", "role", "created_at"}, or None."""
        rows = await self._rows(
            f"read user {name}", select(*_USER_COLUMNS).where(console_users.c.name == name)
        )
        return rows[0] if rows else None

    async def list_users(self) -> list[dict[str, Any]]:
        return await self._rows(
            "list users", select(*_USER_COLUMNS).order_by(console_users.c.name)
        )

    async def check_password(self, name: str, password: str) -> dict[str, Any] | None:
        """The user if the password is theirs, else None. An unknown name costs the same
        hashing work as a known one, so the answer's timing does not say which names exist."""
        rows = await self._rows(f"read user {name}", select(
            *_USER_COLUMNS, console_users.c.password_hash
        ).where(console_users.c.name == name))
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
        await self._execute(f"write the audit entry {what}", console_audit.insert().values(
            at=self.clock(), who=who, what=what, details=json.dumps(details, sort_keys=True)))

    async def audit_log(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Newest first."""
        rows = await self._rows("read the audit log", select(*console_audit.c).order_by(
            console_audit.c.at.desc(), console_audit.c.id.desc()
        ).limit(int(limit)).offset(int(offset)))
        for row in rows:
            try:
                row["details"] = json.loads(row["details"] or "{}")
            except ValueError:
                row["details"] = {}
        return rows
