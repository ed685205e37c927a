"""The console's Dashboard: `GET /api/dashboard` (receptionist or admin).

Today's calls in the viewer's time zone, split into answered by the secretary, put through
to staff and still going; the messages left today; the voice-to-voice time of today's
replies (median and 95th percentile) and hour by hour over the last 24 hours, for the chart;
and the engines' health as the app's own metrics tell it since it started (no checks run:
Lines and health runs those).
"""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies local to the router's builder
import datetime as dt
import math
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, HTTPException, Query

from ari_app.console.auth import Auth, Caller, require
from ari_app.console.live import LiveBus
from ari_app.metrics import Metrics
from ari_app.storage import CallStore

HOURS = 24
QUEUE_WARN = 8  # transcriptions waiting: the recogniser is falling behind


def day_bounds(now: float, tz: ZoneInfo) -> tuple[dt.date, float, float]:
    """The local day of `now` in `tz`, and its start and end as unix times (a day of a
    clock change is 23 or 25 hours long)."""
    day = dt.datetime.fromtimestamp(now, tz).date()
    start = dt.datetime.combine(day, dt.time(), tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
    return day, start.timestamp(), end.timestamp()


def p95(values: Sequence[float]) -> float:
    """The nearest-rank 95th percentile of a non-empty sample."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def latency_summary(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"replies": 0, "p50_ms": None, "p95_ms": None}
    return {"replies": len(values), "p50_ms": round(statistics.median(values)),
            "p95_ms": round(p95(values))}


def hourly(samples: Sequence[tuple[float, float]], since: float,
           hours: int = HOURS) -> list[dict[str, Any]]:
    """One bucket per hour from `since`: its start, and its replies' latency summary."""
    buckets: list[list[float]] = [[] for _ in range(hours)]
    for when, ms in samples:
        slot = int((when - since) // 3600)
        if 0 <= slot < hours:
            buckets[slot].append(ms)
    return [{"from": since + 3600 * i, **latency_summary(b)} for i, b in enumerate(buckets)]


def engine_health(metrics: Metrics) -> dict[str, Any]:
    """Since the app started: each engine's failures, calls refused for a full box, the
    recogniser's queue now, record writes waiting in the spool, and whether it is draining.
    `ok` is false while any of the last three says trouble now."""
    samples = metrics.samples()
    errors: dict[str, int] = {}
    refused = 0
    for key, value in samples.items():
        if key.startswith("secretary_engine_errors_total{engine="):
            errors[key.split("engine=", 1)[1].rstrip("}")] = int(value)
        elif key.startswith("secretary_calls_refused_total{"):
            refused += int(value)
    queue = int(samples.get("secretary_recogniser_queue_depth", 0))
    spooled = int(samples.get("secretary_record_writes_spooled", 0))
    draining = samples.get("secretary_draining", 0) > 0
    return {
        "ok": not (spooled or draining) and queue < QUEUE_WARN,
        "errors": errors, "calls_refused": refused, "recogniser_queue": queue,
        "records_spooled": spooled, "draining": draining,
    }


def dashboard_router(auth: Auth, store: CallStore, live: LiveBus | None,
                     clock: Callable[[], float] = time.time,
                     metrics: Metrics | None = None) -> APIRouter:
    router = APIRouter(tags=["dashboard"])
    Staff = Annotated[Caller, Depends(require(auth, "admin", "receptionist"))]

    @router.get("/dashboard")
    async def dashboard(
        _: Staff,
        tz: Annotated[str, Query(description="the viewer's IANA time zone")] = "UTC",
    ) -> dict[str, Any]:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise HTTPException(422, f"tz: unknown time zone {tz!r} (e.g. Europe/Moscow)"
                                ) from None
        now = clock()
        day, start, end = day_bounds(now, zone)
        counts = await store.call_counts(start, end)
        today = await store.reply_latencies(start, end)
        since = (now // 3600 + 1) * 3600 - HOURS * 3600  # the last 24 whole hours, this one too
        recent = await store.reply_latencies(since, now + 1)
        return {
            "day": day.isoformat(), "tz": tz,
            "calls": counts["calls"],
            "answered": counts["calls"] - counts["transferred"] - counts["unended"],
            "transferred": counts["transferred"],
            "unended": counts["unended"],
            "in_progress": len(live.calls) if live is not None else None,
            "messages": counts["messages"],
            "latency": latency_summary([ms for _, ms in today]),
            "hours": hourly(recent, since),
            "engines": engine_health(metrics) if metrics is not None else None,
        }

    return router
