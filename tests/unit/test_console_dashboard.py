"""The Dashboard's figures: today's calls in the viewer's time zone (answered, put through,
still going), today's messages, reply latency for the day and hour by hour."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from console_fixtures import console, login

from ari_app.call.ending import EndReason
from ari_app.console.dashboard import day_bounds, hourly, p95

HOUR = 3600.0


def test_day_bounds_follow_the_zone_and_its_clock_changes() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    noon = dt.datetime(2026, 3, 29, 12, tzinfo=berlin).timestamp()  # clocks go forward
    day, start, end = day_bounds(noon, berlin)
    assert day == dt.date(2026, 3, 29) and end - start == 23 * HOUR
    utc_day = day_bounds(dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC).timestamp(),
                         ZoneInfo("Asia/Tokyo"))[0]
    assert utc_day == dt.date(2026, 12, 6)


def test_percentiles_and_hour_buckets() -> None:
    assert p95([float(v) for v in range(1, 101)]) == 95.0
    assert p95([7.0]) == 7.0
    buckets = hourly([(10.0, 100.0), (3599.0, 300.0), (3600.0, 50.0), (-1.0, 9.0)], 0.0, 3)
    assert [b["replies"] for b in buckets] == [2, 1, 0]
    assert buckets[0]["p50_ms"] == 200 and buckets[2]["p50_ms"] is None


async def test_todays_calls_messages_and_latency(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        now = c.clock.now  # 2027-01-15 08:00 UTC: 11:00 in Moscow
        store = c.store

        async def call(call_id: str, ago_h: float, v2v: list[float], *, end: bool = True,
                       transferred: bool = False) -> None:
            started = now - ago_h * HOUR
            await store.start_call(call_id, "ch", "100", "x", None, "ru", started_at=started)
            for i, ms in enumerate(v2v):
                await store.add_turn(call_id, "secretary", "Да.", started + 10 + i,
                                     started + 11 + i, {"v2v_ms": ms})
            await store.add_turn(call_id, "secretary", "Здравствуйте!", started, started + 1)
            if transferred:
                await store.set_transferred(call_id, "201")
            if end:
                await store.end_call(call_id, EndReason.CALLER_HANGUP, ended_at=started + 60)

        await call("a", 2, [400.0, 600.0])
        await call("b", 1, [500.0], transferred=True)
        await call("c", 0.5, [], end=False)
        await call("d", 10, [900.0])  # 01:00 today in Moscow, 22:00 yesterday in UTC
        await call("e", 12, [700.0])  # yesterday in both
        for ago_h in (1, 10.5, 13):
            message = await store.add_message("a", {"name": "Иван", "reason": "счёт"})
            with sqlite3.connect(tmp_path / "calls.sqlite3") as db:
                db.execute("UPDATE messages SET created_at = ? WHERE id = ?",
                           (now - ago_h * HOUR, message))
        assert (await client.get("/api/dashboard")).status_code == 401
        await login(client, "rita")
        moscow = (await client.get("/api/dashboard", params={"tz": "Europe/Moscow"})).json()
        assert moscow["day"] == "2027-01-15"
        assert (moscow["calls"], moscow["answered"], moscow["transferred"],
                moscow["unended"], moscow["messages"]) == (4, 2, 1, 1, 2)
        assert moscow["latency"] == {"replies": 4, "p50_ms": 550, "p95_ms": 900}
        assert moscow["in_progress"] == 0
        hours = moscow["hours"]
        assert len(hours) == 24 and hours[-1]["from"] <= now < hours[-1]["from"] + HOUR
        assert sum(h["replies"] for h in hours) == 5  # "e" too: within the last 24 hours
        utc = (await client.get("/api/dashboard", params={"tz": "UTC"})).json()
        assert (utc["day"], utc["calls"], utc["messages"]) == ("2027-01-15", 3, 1)
        assert utc["latency"] == {"replies": 3, "p50_ms": 500, "p95_ms": 600}
        bad = await client.get("/api/dashboard", params={"tz": "Mars/Olympus"})
        assert bad.status_code == 422 and "tz" in bad.text


async def test_engine_health_from_the_apps_own_metrics(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        await login(client, "rita")
        calm = (await client.get("/api/dashboard")).json()["engines"]
        assert calm == {"ok": True, "errors": {}, "calls_refused": 0, "recogniser_queue": 0,
                        "records_spooled": 0, "draining": False}
        c.metrics.engine_failed("llm")
        c.metrics.engine_failed("llm")
        c.metrics.engine_failed("tts")
        c.metrics.calls_refused.labels("recogniser_queue").inc()
        c.metrics.watch_recogniser(lambda: 3)
        busy = (await client.get("/api/dashboard")).json()["engines"]
        assert busy["errors"] == {"llm": 2, "tts": 1}
        assert (busy["calls_refused"], busy["recogniser_queue"], busy["ok"]) == (1, 3, True)
        c.metrics.records_spooled.set(2)  # the database refuses writes now: trouble
        assert (await client.get("/api/dashboard")).json()["engines"]["ok"] is False
        c.metrics.records_spooled.set(0)
        c.metrics.watch_recogniser(lambda: 20)  # the recogniser falls behind
        assert (await client.get("/api/dashboard")).json()["engines"]["ok"] is False
