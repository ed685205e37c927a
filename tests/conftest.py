"""Fixtures every test folder may use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL for the session (Debian's packages, a temporary directory)."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """An empty call database: an SQLite file, then a database on the real PostgreSQL."""
    if request.param == "sqlite":
        return tmp_path / "db" / "calls.sqlite3"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return await server.database()
