"""Shared helpers of the call tests: ARI checks, transcription of what the caller heard,
and reading call records straight from the app's SQLite file."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soxr

from ari_app.media.loudness import frame_dbfs
from testkit.runner import CallResult, place_call
from testkit.scenario import CallerLine

# a caller answers this long after the secretary has fallen quiet (a person leaves about
# a second; the longest pause inside one of the secretary's replies is well under it)
REPLY_QUIET_MS = 1000

ARI = "http://127.0.0.1:8088/ari"
AUTH = ("secretary", "testbed-secret")
METRICS_URL = "http://127.0.0.1:8080/metrics"  # console.listen's default (config/testbed.yaml)


def ari_get(path: str) -> Any:
    resp = httpx.get(ARI + path, auth=AUTH, timeout=5)
    resp.raise_for_status()
    return resp.json()


def wait_asterisk_clean(timeout_s: float = 8.0) -> tuple[list[Any], list[Any]]:
    """Channels and bridges left in Asterisk, after waiting up to `timeout_s` for teardown."""
    deadline = time.monotonic() + timeout_s
    while True:
        channels, bridges = ari_get("/channels"), ari_get("/bridges")
        if (not channels and not bridges) or time.monotonic() > deadline:
            return channels, bridges
        time.sleep(0.2)


def pcm8k_to_16k_float(pcm: bytes) -> np.ndarray:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    return soxr.resample(samples, 8000, 16000).astype(np.float32)


def normalise(text: str) -> str:
    text = text.lower().replace("ё", "е")
    return re.sub(r"[^\w\s]", " ", text)


def call_records(db: Path | str) -> list[dict[str, Any]]:
    """Every call, oldest first, with its turns, as the database holds them (timings as
    JSON text): from the SQLite file, or from the PostgreSQL server at the URL `db`."""
    if isinstance(db, str):
        return asyncio.run(_server_records(db))
    with sqlite3.connect(db) as con:
        con.row_factory = sqlite3.Row
        calls = [dict(r) for r in con.execute("SELECT * FROM calls ORDER BY started_at")]
        for call in calls:
            call["turns"] = [
                dict(r)
                for r in con.execute(
                    "SELECT * FROM turns WHERE call_id = ? ORDER BY started_at", (call["call_id"],)
                )
            ]
    return calls


async def _server_records(url: str) -> list[dict[str, Any]]:
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import create_async_engine

    from ari_app.storage.database import database_url
    from ari_app.storage.tables import calls, turns

    engine = create_async_engine(database_url(url))
    try:
        async with engine.connect() as conn:
            found = [dict(r) for r in (await conn.execute(
                select(calls).order_by(calls.c.started_at))).mappings()]
            for call in found:
                call["turns"] = [dict(r) for r in (await conn.execute(
                    select(turns).where(turns.c.call_id == call["call_id"])
                    .order_by(turns.c.started_at))).mappings()]
    finally:
        await engine.dispose()
    return found


def wait_call_ended(db: Path | str, count: int, timeout_s: float = 15.0) -> list[dict[str, Any]]:
    """The records once `count` calls exist and all have ended."""
    deadline = time.monotonic() + timeout_s
    while True:
        calls = call_records(db) if isinstance(db, str) or db.exists() else []
        if len(calls) >= count and all(c["ended_at"] for c in calls):
            return calls
        if time.monotonic() > deadline:
            return calls
        time.sleep(0.2)


def scrape(url: str = METRICS_URL) -> dict[str, float]:
    """The running app's /metrics (console.listen of the testbed config)."""
    from ari_app.metrics import read_samples

    return read_samples(httpx.get(url, timeout=5).text)


def next_call(app: Any) -> dict[str, Any]:
    """The record of the call placed since `app.calls_before` was counted, once it ended;
    the count moves on past it."""
    calls = wait_call_ended(app.db, app.calls_before + 1)
    app.calls_before = len(calls)
    return calls[-1]


def answer(audio: Path, quiet_ms: int = REPLY_QUIET_MS, **kwargs: Any) -> CallerLine:
    """A caller line said once the secretary has answered the caller's previous line (or
    greeted) and then been quiet for `quiet_ms`, as a person answers: no fixed pause that
    has to cover the slowest reply (testkit/turn_cue.py). A reply a language model writes
    as it goes can pause longer between its sentences: give it a longer `quiet_ms`."""
    return CallerLine(audio, pause_before_ms=0, after_reply_quiet_ms=quiet_ms, **kwargs)


def dial(**kwargs: Any) -> CallResult:
    """place_call from synchronous test code (also from a worker thread)."""
    return asyncio.run(place_call(**kwargs))


def loudest(pcm: bytes, origin: float, start: float, end: float, rate: int = 8000) -> float:
    """The loudest 20 ms frame (dBFS) of 16-bit `pcm` starting at time `origin`, between the
    times `start` and `end`; -120 when there is none."""
    size = rate // 50 * 2
    a = max(0, int((start - origin) * rate) * 2)
    b = max(a, int((end - origin) * rate) * 2)
    frames = [pcm[i : i + size] for i in range(a, min(b, len(pcm)) - size + 1, size)]
    return max((frame_dbfs(f) for f in frames), default=-120.0)
