"""The database behind the call record and the console's accounts: an SQLAlchemy async
engine on an SQLite file (the default, nothing to install) or a PostgreSQL server (asyncpg,
`storage.url`), its schema brought up to date by Alembic when it opens.

Every database failure (full disk, locked file, server gone, closed store) is raised as
`StorageError`, naming the database (a server's password left out); callers decide what to
do, nothing is swallowed here.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ari_app.errors import SecretaryError

MIGRATIONS = Path(__file__).with_name("migrations")
logging.getLogger("alembic").setLevel(logging.WARNING)  # not a line per migration step
# SQLite's user_version as the last schema before Alembic (3) left it, plus one: a program
# from before Alembic refuses a file this one has migrated instead of writing into it
SQLITE_USER_VERSION = 4
SERVER_SCHEMES = ("postgresql", "postgresql+asyncpg")


class StorageError(SecretaryError):
    """The call database could not be read or written; the message says what and why."""


def database_url(target: Path | str) -> URL:
    """The engine URL of a target: a file path (SQLite) or a postgresql:// URL. A
    server URL's driver is asyncpg whatever it names; anything else is refused."""
    if isinstance(target, Path) or "://" not in target:
        return URL.create("sqlite+aiosqlite", database=str(Path(target)))
    try:
        url = make_url(target)
    except ArgumentError as exc:
        raise StorageError(f"storage.url: not a database URL: {exc}") from exc
    if url.drivername in SERVER_SCHEMES:
        return url.set(drivername="postgresql+asyncpg")
    if url.drivername in ("sqlite", "sqlite+aiosqlite"):
        return url.set(drivername="sqlite+aiosqlite")
    raise StorageError(
        f"storage.url: unsupported database {url.drivername!r}; expected postgresql://... "
        "(or leave storage.url out for the SQLite file storage.database)"
    )


log = logging.getLogger(__name__)
SQLITE_POOL = 4  # connections to a SQLite file


class Database:
    """One engine and its schema. `await open()` migrates (once per process and target at a
    time: a file lock for SQLite, an advisory lock on a server); `await close()` disposes."""

    def __init__(self, target: Path | str, *, busy_timeout_ms: int = 5000) -> None:
        self.url = database_url(target)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.path = Path(self.url.database or "") if self.is_sqlite else None
        # how errors name it: the file, or the server URL without its password
        self.name = (str(self.path) if self.path else
                     self.url.set(drivername="postgresql").render_as_string(hide_password=True))
        self._busy_timeout_ms = busy_timeout_ms
        self._engine: AsyncEngine | None = None
        # SQLite takes one writer at a time: queue them here rather than in busy waits
        self.write_lock = asyncio.Lock()

    @property
    def is_open(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise StorageError(f"{self.name}: the call store is not open")
        return self._engine

    async def open(self) -> None:
        if self._engine is not None:
            return
        engine = self._make_engine()
        try:
            if self.path is not None:
                lock = await asyncio.to_thread(_lock_file, self.path)
                try:
                    await self._migrate(engine)
                finally:
                    if lock is not None:
                        os.close(lock)  # closing the descriptor releases the lock
            else:
                await self._migrate(engine)
        except BaseException:
            await engine.dispose()
            raise
        self._engine = engine

    async def fill_pool(self) -> None:
        """Open every connection of a SQLite file's pool now (each has its thread), so that
        a long-running process has the same threads and files before and after a burst of
        calls (a pool opens them as it needs them, and keeps them)."""
        if self.path is None:
            return
        held = []
        try:
            for _ in range(SQLITE_POOL):
                held.append(await self.engine.connect())
        except (SQLAlchemyError, OSError) as exc:  # they open when needed instead
            log.warning("%s: could not open its connections ahead: %s", self.name, exc)
        finally:
            for conn in held:
                await conn.close()

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            try:
                await engine.dispose()
            except SQLAlchemyError as exc:
                raise StorageError(f"{self.name}: error closing the database: {exc}") from exc

    def _make_engine(self) -> AsyncEngine:
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"{self.name}: cannot open the call database: {exc}") from exc
            # a few connections (a thread each): one writes at a time, the others read
            engine = create_async_engine(
                self.url, pool_size=SQLITE_POOL, max_overflow=0, pool_timeout=10.0,
                connect_args={"timeout": self._busy_timeout_ms / 1000},
            )
            event.listen(engine.sync_engine, "connect", self._sqlite_pragmas)
            return engine
        # a server that stops answering costs a write seconds, not the call: the record's
        # spool keeps what it refused
        return create_async_engine(
            self.url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_timeout=5.0,
            connect_args={"timeout": 5.0, "command_timeout": 10.0},
        )  # fmt: skip

    def _sqlite_pragmas(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       f"busy_timeout={int(self._busy_timeout_ms)}"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    async def _migrate(self, engine: AsyncEngine) -> None:
        try:
            async with engine.begin() as conn:
                if not self.is_sqlite:  # one migrating node at a time
                    await conn.execute(text("SELECT pg_advisory_xact_lock(7268410)"))
                await conn.run_sync(self._upgrade)
        except StorageError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"{self.name}: cannot prepare the call database: {exc}") from exc

    def _upgrade(self, conn: Connection) -> None:
        script = ScriptDirectory(str(MIGRATIONS))
        current = MigrationContext.configure(conn).get_current_revision()
        if current is not None and current not in {r.revision for r in script.walk_revisions()}:
            raise StorageError(
                f"{self.name}: database schema {current} is newer than this program's "
                f"({script.get_current_head()}); upgrade the secretary or use another database"
            )
        if self.is_sqlite:
            version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
            if current is None and version > SQLITE_USER_VERSION - 1:
                raise StorageError(
                    f"{self.name}: database schema version {version} is newer than this "
                    "program's; upgrade the secretary or use another file"
                )
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        if self.is_sqlite:
            conn.exec_driver_sql(f"PRAGMA user_version={SQLITE_USER_VERSION}")

    # --- statements, their errors named ------------------------------------------------

    @asynccontextmanager
    async def transaction(self, what: str) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed at the end (rolled back on an error);
        database errors come out as StorageError saying `what` could not be done. Writes on
        SQLite wait for each other here."""
        engine = self.engine
        try:
            if self.is_sqlite:
                async with self.write_lock, engine.begin() as conn:
                    yield conn
            else:
                async with engine.begin() as conn:
                    yield conn
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"{self.name}: cannot {what}: {_reason(exc)}") from exc

    @asynccontextmanager
    async def reading(self, what: str) -> AsyncIterator[AsyncConnection]:
        """A connection for reads (no lock, nothing committed)."""
        engine = self.engine
        try:
            async with engine.connect() as conn:
                yield conn
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"{self.name}: cannot {what}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    """The driver's own words without SQLAlchemy's statement dump and help link."""
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).split("\n[SQL:")[0]


def _lock_file(path: Path) -> int | None:
    """An exclusive flock on a file beside the SQLite database (`<name>.lock`), held while
    its schema is migrated; None where it cannot be made (a read-only directory: the engine
    then says what it cannot do). Never the database file itself: closing any descriptor of
    it would drop the POSIX locks this process's SQLite connections hold on it."""
    try:
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o660)
    except OSError:
        return None
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd
