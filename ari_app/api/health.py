"""Is the call database reachable? Checked read-only, without creating anything: the SQLite
file, or the PostgreSQL server (storage.url)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from ari_app.api.schemas import DatabaseStatus
from ari_app.storage.database import database_url


def _check(path: Path) -> DatabaseStatus:
    where = str(path)
    if not path.exists():
        parent = path.parent
        if parent.is_dir() and os.access(parent, os.W_OK):
            return DatabaseStatus(ok=True, path=where, detail="not created yet (no call so far)")
        return DatabaseStatus(
            ok=False, path=where, detail=f"missing, and {parent} is not a writable directory"
        )
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=2.0)
        try:
            (calls,) = conn.execute("SELECT count(*) FROM calls").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return DatabaseStatus(ok=False, path=where, detail=f"cannot read: {exc}")
    return DatabaseStatus(ok=True, path=where, detail=f"{calls} calls recorded")


async def _check_server(url: str) -> DatabaseStatus:
    engine = create_async_engine(database_url(url), connect_args={"timeout": 3.0})
    where = engine.url.set(drivername="postgresql").render_as_string(hide_password=True)
    try:
        async with engine.connect() as conn:
            if not await conn.run_sync(lambda c: inspect(c).has_table("calls")):
                return DatabaseStatus(ok=True, path=where, detail="no tables yet (no call so far)")
            calls = (await conn.execute(text("SELECT count(*) FROM calls"))).scalar_one()
    except (SQLAlchemyError, OSError) as exc:
        return DatabaseStatus(ok=False, path=where, detail=f"cannot read: {exc}")
    finally:
        await engine.dispose()
    return DatabaseStatus(ok=True, path=where, detail=f"{calls} calls recorded")


async def check_database(target: Path | str) -> DatabaseStatus:
    if isinstance(target, str):
        return await _check_server(target)
    return await asyncio.to_thread(_check, target)
