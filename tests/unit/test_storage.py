"""CallStore on a real SQLite file: WAL, roundtrip, orphans, concurrency, errors."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ari_app.call.ending import EndReason
from ari_app.cli.calls import format_call
from ari_app.storage import SCHEMA_VERSION, CallStore, StorageError


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CallStore]:
    s = CallStore(tmp_path / "sub" / "calls.sqlite3")
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def test_wal_mode_and_schema_version(store: CallStore) -> None:
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"calls", "turns"} <= tables


async def test_roundtrip(store: CallStore) -> None:
    await store.start_call(
        "c1", "chan-1", "ru", "PJSIP/alice", "+79990001122", "ru", started_at=100.0
    )
    i0 = await store.add_turn("c1", "secretary", "Здравствуйте!", 100.5, 102.0, {"tts": 0.2})
    i1 = await store.add_turn(
        "c1", "caller", "Когда вы работаете?", 103.0, 104.5,
        {"v2v": 1.2, "stt": 0.4, "reply": 0.0, "tts": 0.3},
    )  # fmt: skip
    assert (i0, i1) == (0, 1)
    await store.set_recordings("c1", Path("/r/c1-caller.wav"), "/r/c1-secretary.wav")
    assert await store.end_call("c1", "caller_hangup", ended_at=110.0)
    # the first end wins
    assert not await store.end_call("c1", "app_hangup", ended_at=120.0)

    call = await store.get_call("c1")
    assert call is not None
    assert call["call_id"] == "c1" and call["channel_id"] == "chan-1"
    assert call["caller_id"] == "+79990001122" and call["endpoint"] == "PJSIP/alice"
    assert call["ended_by"] == "caller_hangup" and call["ended_at"] == 110.0
    assert call["duration_s"] == pytest.approx(10.0)
    assert call["caller_wav"] == "/r/c1-caller.wav"
    assert [t["who"] for t in call["turns"]] == ["secretary", "caller"]
    assert call["turns"][1]["text"] == "Когда вы работаете?"
    assert call["turns"][1]["timings"]["v2v"] == pytest.approx(1.2)
    assert await store.turns("c1") == call["turns"]

    listed = await store.list_calls(10)
    assert len(listed) == 1 and listed[0]["turn_count"] == 2

    report = format_call(call)
    assert "c1" in report and "+79990001122" in report and "hung up" in report
    assert "[+3.0s] Caller: Когда вы работаете?" in report
    assert "v2v 1.2 s (stt 0.4, reply 0.0, tts 0.3)" in report
    assert "/r/c1-secretary.wav" in report


async def test_get_unknown_call(store: CallStore) -> None:
    assert await store.get_call("nope") is None


async def test_close_orphans(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    async with CallStore(path) as s:
        await s.start_call("open1", "ch1", None, None, None, "ru")
        await s.start_call("open2", "ch2", None, None, None, "en")
        await s.start_call("done", "ch3", None, None, None, "ru")
        await s.end_call("done", "app_hangup")
        await s.add_turn("open1", "caller", "алло", 5000.0, 5001.5)
        await s.add_turn("open1", "secretary", "Слушаю вас.", 5002.0, 5003.25)
    # the process was killed; the next one starts
    async with CallStore(path) as s:
        assert await s.close_orphans() == 2
        open1, open2, done = [await s.get_call(c) for c in ("open1", "open2", "done")]
        assert open1 is not None and open1["ended_by"] == "app_crashed"
        assert open1["ended_at"] == 5003.25  # when its last turn ended, not now
        assert open1["error"]
        assert open2 is not None and open2["ended_at"] == open2["started_at"]  # no turns
        assert done is not None and done["ended_by"] == "app_hangup"
        assert await s.close_orphans() == 0


@pytest.mark.parametrize("reason", list(EndReason))
async def test_every_end_reason_is_stored(store: CallStore, reason: EndReason) -> None:
    """The session's own type: no ending it can give is refused by the store."""
    await store.start_call("c", "ch", None, None, None, "ru")
    assert await store.end_call("c", reason)
    call = await store.get_call("c")
    assert call is not None and EndReason(call["ended_by"]) is reason
    assert reason.description


async def test_concurrent_writes(store: CallStore) -> None:
    await store.start_call("a", "ch-a", None, None, None, "ru")
    await store.start_call("b", "ch-b", None, None, None, "ru")

    async def talk(call_id: str) -> None:
        for n in range(25):
            await store.add_turn(call_id, "caller", f"{call_id}{n}", float(n), n + 0.5, {})
            await asyncio.sleep(0)

    await asyncio.gather(talk("a"), talk("b"), talk("a"))
    turns_a = await store.turns("a")
    assert len(turns_a) == 50
    assert [t["idx"] for t in turns_a] == list(range(50))
    assert len(await store.turns("b")) == 25


async def test_second_connection_sees_writes(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    async with CallStore(path) as one, CallStore(path) as two:
        await asyncio.gather(
            one.start_call("x", "c", None, None, None, "ru"),
            two.start_call("y", "c", None, None, None, "ru"),
        )
        assert {c["call_id"] for c in await one.list_calls(5)} == {"x", "y"}


async def test_errors_are_storage_errors(store: CallStore, tmp_path: Path) -> None:
    await store.start_call("dup", "c", None, None, None, "ru")
    with pytest.raises(StorageError, match="dup"):
        await store.start_call("dup", "c", None, None, None, "ru")
    with pytest.raises(StorageError):  # foreign key: no such call
        await store.add_turn("ghost", "caller", "hi", 0.0, 1.0)
    with pytest.raises(ValueError, match=r"caller_hangup.*got 'whatever'"):
        await store.end_call("dup", "whatever")
    # the store keeps working after an error
    await store.add_turn("dup", "caller", "hi", 0.0, 1.0)

    closed = CallStore(tmp_path / "closed.sqlite3")
    with pytest.raises(StorageError, match="not open"):
        await closed.add_turn("x", "caller", "hi", 0.0, 1.0)


async def test_unopenable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError):
        await CallStore(blocker / "calls.sqlite3").open()


async def test_newer_schema_refused(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer"):
        await CallStore(path).open()


def test_report_timings_from_session_keys() -> None:
    from ari_app.cli.calls import format_timings

    timings = {
        "endpoint_ms": 600.0,
        "stt_ms": 412.3,
        "reply_ms": 0.1,
        "tts_first_audio_ms": 280.0,
        "v2v_ms": 1300.0,
    }
    assert format_timings(timings) == "v2v 1.3 s (endpoint 0.6, stt 0.4, reply 0.0, tts 0.3)"
    assert format_timings({"v2v": 1.2, "stt": 0.4}) == "v2v 1.2 s (stt 0.4)"
    assert format_timings({"tts_first_audio_ms": 250.0, "interrupted": 1.0}) == (
        "tts 0.2 s, interrupted"
    )
    assert format_timings({}) == ""


def test_report_of_unfinished_call() -> None:
    report = format_call({"call_id": "x", "started_at": 1.0, "ended_at": None, "turns": []})
    assert "in progress" in report and "Recordings: none" in report


async def test_messages_are_stored_and_listed_newest_first(tmp_path: Path) -> None:
    async with CallStore(tmp_path / "calls.sqlite3") as store:
        await store.start_call("c1", "ch1", "office", "PJSIP/x", "+79161234567", "ru")
        first = await store.add_message(
            "c1", {"name": "Иван", "callback_number": "+79161234567", "reason": "счёт",
                   "language": "ru", "caller_id": "+79161234567"},
        )
        second = await store.add_message(None, {"name": "Ann", "urgency": "urgent"})
        await store.set_notified(first, {"smtp": "ok"})
        rows = await store.messages()
    assert [r["id"] for r in rows] == [second, first]
    assert rows[1]["name"] == "Иван" and rows[1]["call_id"] == "c1"
    assert rows[1]["notified"] == {"smtp": "ok"}
    assert rows[0]["urgency"] == "urgent" and rows[1]["urgency"] == "normal"


async def test_a_version_1_database_gains_the_new_column_and_table(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE calls (call_id TEXT PRIMARY KEY, channel_id TEXT, line TEXT, endpoint TEXT,"
        " caller_id TEXT, language TEXT, started_at REAL NOT NULL, ended_at REAL, ended_by TEXT,"
        " error TEXT, caller_wav TEXT, secretary_wav TEXT);"
        "INSERT INTO calls (call_id, started_at) VALUES ('old', 1.0);"
        "PRAGMA user_version=1;"
    )
    db.close()
    async with CallStore(path) as store:
        await store.set_transferred("old", "200")
        call = await store.get_call("old")
        await store.add_message("old", {"name": "x"})
    assert call is not None and call["transferred_to"] == "200"


async def test_drop_turns_removes_only_the_rows_named(store: CallStore) -> None:
    await store.start_call("c1", "chan-1", "ru", "PJSIP/alice", "+7999", "ru", started_at=1.0)
    await store.start_call("c2", "chan-2", "ru", "PJSIP/bob", "+7998", "ru", started_at=1.0)
    for text in ("Здравствуйте!", "", "Здравствуйте! Когда вы работаете?"):
        await store.add_turn("c1", "caller", text, 2.0, 3.0)
    await store.add_turn("c2", "caller", "Алло", 2.0, 3.0)
    assert await store.drop_turns("c1", [0, 1]) == 2
    assert await store.drop_turns("c1", []) == 0
    assert [t["text"] for t in await store.turns("c1")] == ["Здравствуйте! Когда вы работаете?"]
    assert len(await store.turns("c2")) == 1
    # the next turn still goes after the last one kept
    assert await store.add_turn("c1", "secretary", "С девяти до шести.", 4.0, 5.0) == 3
