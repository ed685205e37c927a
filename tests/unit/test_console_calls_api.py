"""The console's read-only call history: pages, each filter, one call with its turns, the
messages newest first, and a query plan that stays on the index with 10,000 calls."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from console_fixtures import console, login
from sqlalchemy.dialects import sqlite

from ari_app.call.ending import EndReason
from ari_app.storage import CallStore, call_search_query, call_search_where

T0 = 1_790_000_000.0  # 2026-09-21T...Z; calls start an hour apart from here


async def seed(store: CallStore) -> None:
    """Six calls: c0 (oldest) .. c5 (newest)."""
    plan = [
        ("c0", "ru-gsm", "+79161234567", EndReason.CALLER_HANGUP, "какие часы работы"),
        ("c1", "en-sip", "+4420700001", EndReason.CALLER_HANGUP, "opening hours please"),
        ("c2", "ru-gsm", "+79169990000", EndReason.TRANSFERRED, "соедините с бухгалтерией"),
        ("c3", "en-sip", "+4420712345", EndReason.CALLER_HANGUP, "leave a message about price"),
        ("c4", "ru-gsm", None, EndReason.APP_HANGUP, ""),
        ("c5", "en-sip", "+15551234567", EndReason.CALLER_HANGUP, "what is the price of hours"),
    ]
    for i, (call_id, line, caller, ended_by, said) in enumerate(plan):
        start = T0 + i * 3600
        await store.start_call(call_id, f"ch-{call_id}", line, "PJSIP/x", caller, line[:2],
                               started_at=start)
        await store.add_turn(call_id, "secretary", "Hello, how can I help?", start, start + 2,
                             {"tts_s": 0.25})
        if said:
            await store.add_turn(call_id, "caller", said, start + 3, start + 5,
                                 {"stt_s": 0.4, "voice_to_voice_s": 0.8})
        await store.end_call(call_id, ended_by, ended_at=start + 60)


async def ids(client: object, **params: object) -> list[str]:
    response = await client.get("/api/calls", params=params)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    return [item["call_id"] for item in response.json()["items"]]


async def test_calls_come_newest_first_in_pages(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        await seed(c.store)
        await login(client, "rita")
        first = (await client.get("/api/calls", params={"limit": 4})).json()
        assert [i["call_id"] for i in first["items"]] == ["c5", "c4", "c3", "c2"]
        assert first["total"] == 6
        assert first["items"][0]["turn_count"] == 2
        assert first["items"][0]["duration_s"] == 60
        assert await ids(client, limit=4, offset=4) == ["c1", "c0"]
        assert await ids(client, limit=4, offset=8) == []
        assert (await client.get("/api/calls", params={"limit": 0})).status_code == 422
        assert (await client.get("/api/calls", params={"limit": 10_000})).status_code == 422


async def test_each_filter(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        await seed(c.store)
        await login(client, "root")
        assert await ids(client, line="ru-gsm") == ["c4", "c2", "c0"]
        assert await ids(client, caller="916") == ["c2", "c0"]
        assert await ids(client, caller="%") == []  # taken literally
        assert await ids(client, ended_by="transferred") == ["c2"]
        assert await ids(client, q="price") == ["c5", "c3"]
        assert await ids(client, q="price hours") == ["c5"]  # every word
        assert await ids(client, q="часы") == ["c0"]
        assert await ids(client, q="ЧАСЫ Работы") == ["c0"]  # case-blind in Cyrillic too
        assert await ids(client, q="PRICE") == ["c5", "c3"]
        assert await ids(client, date_from=T0 + 3600, date_to=T0 + 3 * 3600) == ["c2", "c1"]
        iso_from = "2026-09-21T19:13:20+03:00"  # T0 + 2 h
        assert await ids(client, date_from=iso_from, line="en-sip") == ["c5", "c3"]
        assert await ids(client, date_from="2026-09-21T16:13:20", line="en-sip") == ["c5", "c3"]
        assert await ids(client, date_to="2026-09-21") == []  # midnight UTC, before T0
        assert len(await ids(client, date_from="2026-09-21", date_to="2026-09-22")) == 6
        page = (await client.get("/api/calls", params={"line": "en-sip", "limit": 1})).json()
        assert page["total"] == 3
        bad = await client.get("/api/calls", params={"date_from": "yesterday"})
        assert bad.status_code == 422
        async with CallStore(c.store.path, node="box-b") as other_box:  # one database, two boxes
            await other_box.start_call("c6", "ch-c6", "ru-gsm", "PJSIP/x", None, "ru",
                                       started_at=T0 + 9 * 3600)
        assert await ids(client, node="box-b") == ["c6"]
        assert (await ids(client))[:2] == ["c6", "c5"]


async def test_one_call_with_its_turns_and_timings(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        await seed(c.store)
        await login(client, "rita")
        call = (await client.get("/api/calls/c1")).json()
        assert call["caller_id"] == "+4420700001"
        assert call["ended_by"] == "caller_hangup"
        assert [(t["who"], t["text"]) for t in call["turns"]] == [
            ("secretary", "Hello, how can I help?"), ("caller", "opening hours please")
        ]
        assert call["turns"][1]["timings"] == {"stt_s": 0.4, "voice_to_voice_s": 0.8}
        assert call["turns"][1]["started_at"] == T0 + 3600 + 3
        assert (await client.get("/api/calls/nope")).status_code == 404


async def test_messages_newest_first(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        await seed(c.store)
        for n in range(3):
            await c.store.add_message("c1", {"name": f"caller {n}", "reason": "call back"})
        await login(client, "rita")
        body = (await client.get("/api/messages")).json()
        assert [m["name"] for m in body["items"]] == ["caller 2", "caller 1", "caller 0"]
        assert body["items"][0]["urgency"] == "normal"
        page = (await client.get("/api/messages", params={"limit": 1, "offset": 1})).json()
        assert [m["name"] for m in page["items"]] == ["caller 1"]


async def test_ten_thousand_calls_page_from_the_index(tmp_path: Path) -> None:
    db = tmp_path / "calls.sqlite3"
    async with CallStore(db):
        pass  # the schema
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO calls (call_id, line, caller_id, started_at, ended_at, ended_by) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(f"k{i:05d}", "ru-gsm" if i % 2 else "en-sip", f"+7916{i:07d}", T0 + i,
              T0 + i + 30, "caller_hangup") for i in range(10_000)],
        )
        conn.execute("ANALYZE")
        for filters in ({}, {"line": "ru-gsm"}, {"started_from": T0 + 500, "caller": "9"},
                        {"line": "en-sip", "started_to": T0 + 900}):
            # the console's own query, as SQLite gets it
            query = call_search_query(call_search_where(**filters)).limit(50)  # type: ignore[arg-type]
            sql = query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
            plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            assert "INDEX calls_" in plan, plan  # walks the index in order ...
            assert "TEMP B-TREE" not in plan, plan  # ... and sorts nothing
    async with CallStore(db) as store:
        page, total = await store.search_calls(50, 9_950)
        assert total == 10_000
        assert [p["call_id"] for p in page][:2] == ["k00049", "k00048"]
        assert len(page) == 50
