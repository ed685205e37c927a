"""Console accounts (in SQLite, and on a real PostgreSQL where the test takes `db_target`):
argon2 hashes, duplicate names, empty passwords, roles."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest
from argon2 import PasswordHasher

from ari_app.console.users import UserError, UserStore

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


async def test_password_is_stored_as_an_argon2_hash(tmp_path: Path) -> None:
    async with UserStore(tmp_path / "db.sqlite3", hasher=FAST) as users:
        await users.add("anna", "admin", "s3cret words")
        assert await users.check_password("anna", "s3cret words") == {
            "name": "anna", "role": "admin", "created_at": pytest.approx(
                (await users.get("anna") or {})["created_at"])
        }
        assert await users.check_password("anna", "s3cret word") is None
        assert await users.check_password("bob", "s3cret words") is None
    async with aiosqlite.connect(tmp_path / "db.sqlite3") as db:
        async with db.execute("SELECT password_hash FROM console_users") as cur:
            (stored,) = await cur.fetchone() or ("",)
    assert stored.startswith("$argon2id$")
    assert "s3cret" not in stored


@pytest.mark.parametrize(
    ("name", "role", "password", "error"),
    [
        ("anna", "admin", "pw", "already exists"),
        ("bob", "boss", "pw", "unknown role 'boss'"),
        ("bob", "admin", "", "password is empty"),
        ("  ", "admin", "pw", "name is empty"),
    ],
)
async def test_bad_accounts_are_refused_clearly(
    db_target: Path | str, name: str, role: str, password: str, error: str
) -> None:
    async with UserStore(db_target, hasher=FAST) as users:
        await users.add("anna", "admin", "pw")
        with pytest.raises(UserError, match=error):
            await users.add(name, role, password)
        assert [u["name"] for u in await users.list_users()] == ["anna"]


async def test_remove_says_whether_there_was_such_a_user(db_target: Path | str) -> None:
    async with UserStore(db_target, hasher=FAST) as users:
        await users.add("anna", "receptionist", "pw")
        assert await users.remove("anna") is True
        assert await users.remove("anna") is False
        assert await users.get("anna") is None
