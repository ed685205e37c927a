"""Is the call database reachable? Checked read-only, without creating anything."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

from ari_app.api.schemas import DatabaseStatus


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


async def check_database(path: Path) -> DatabaseStatus:
    return await asyncio.to_thread(_check, path)
