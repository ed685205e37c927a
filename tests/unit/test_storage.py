"""CallStore on a real SQLite file and on a real PostgreSQL server (the same tests on both):
roundtrip, orphans, concurrency, errors; SQLite's WAL and the migration of older files."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ari_app.call.ending import EndReason
from ari_app.cli.calls import format_call, format_message
from ari_app.storage import CallStore, StorageError
from ari_app.storage.database import SQLITE_USER_VERSION


@pytest.fixture
async def store(db_target: Path | str) -> AsyncIterator[CallStore]:
    s = CallStore(db_target)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    async with CallStore(tmp_path / "sub" / "calls.sqlite3") as store:
        path = store.path
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SQLITE_USER_VERSION
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"calls", "turns", "messages", "console_users", "alembic_version"} <= tables


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


async def test_close_orphans(db_target: Path | str) -> None:
    path = db_target
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


async def test_second_connection_sees_writes(db_target: Path | str) -> None:
    path = db_target
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


async def test_newer_schema_refused(db_target: Path | str, tmp_path: Path) -> None:
    """A database a newer program migrated is refused, not written into: an unknown
    Alembic revision, or (SQLite) a user_version past the last one before Alembic."""
    async with CallStore(db_target) as store:
        async with store.db.transaction("pretend a newer program") as conn:
            await conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StorageError, match="newer"):
        await CallStore(db_target).open()
    old = tmp_path / "pre-alembic.sqlite3"
    with sqlite3.connect(old) as db:
        db.execute("PRAGMA user_version=4")
    with pytest.raises(StorageError, match="newer"):
        await CallStore(old).open()


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


def test_secretary_messages_marks_one_not_confirmed() -> None:
    base = {"id": 7, "created_at": 1.0, "name": "Анна", "callback_number": "89262004718"}
    assert "NOT CONFIRMED" in format_message({**base, "confirmed": False}).splitlines()[0]
    assert "CONFIRMED" not in format_message({**base, "confirmed": True})


def test_report_of_unfinished_call() -> None:
    report = format_call({"call_id": "x", "started_at": 1.0, "ended_at": None, "turns": []})
    assert "in progress" in report and "Recordings: none" in report


async def test_messages_are_stored_and_listed_newest_first(db_target: Path | str) -> None:
    async with CallStore(db_target) as store:
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
    assert rows[0]["confirmed"] is True  # unless said otherwise


async def test_a_message_the_caller_did_not_confirm_is_stored_as_such(
    db_target: Path | str,
) -> None:
    async with CallStore(db_target) as store:
        kept = await store.add_message(None, {"name": "Анна", "confirmed": False})
        other = await store.add_message(None, {"name": "Ann", "confirmed": True})
        found = {m["id"]: m["confirmed"] for m in await store.message_page()}
        one = await store.get_message(kept)
    assert found == {kept: False, other: True}
    assert one is not None and one["confirmed"] is False


async def test_messages_stored_before_revision_3_count_as_confirmed(tmp_path: Path) -> None:
    """A database at revision 0002 with a message in it: after the upgrade the message is
    there and confirmed (the program stored only confirmed messages then)."""
    from alembic import command
    from alembic.config import Config

    from ari_app.storage.database import MIGRATIONS

    path = tmp_path / "r2.sqlite3"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.exec_driver_sql(f"PRAGMA user_version={SQLITE_USER_VERSION}")
        conn.exec_driver_sql(
            "INSERT INTO messages (created_at, name, urgency) VALUES (1.0, 'old', 'normal')")
    engine.dispose()
    async with CallStore(path) as store:
        rows = await store.messages()
    assert [(m["name"], m["confirmed"]) for m in rows] == [("old", True)]


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


async def test_a_version_3_file_is_migrated_in_place(tmp_path: Path) -> None:
    """A file written by the program before Alembic keeps its calls, and its turns gain
    what the console's search and dashboard read (folded text, voice-to-voice time)."""
    path = tmp_path / "v3.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE calls (call_id TEXT PRIMARY KEY, channel_id TEXT, line TEXT,"
            " endpoint TEXT, caller_id TEXT, language TEXT, started_at REAL NOT NULL,"
            " ended_at REAL, ended_by TEXT, error TEXT, caller_wav TEXT, secretary_wav TEXT,"
            " transferred_to TEXT, transferred_by TEXT);"
            "CREATE INDEX calls_started_at ON calls(started_at);"
            "CREATE INDEX calls_line_started_at ON calls(line, started_at);"
            "CREATE TABLE turns (id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL"
            " REFERENCES calls(call_id) ON DELETE CASCADE, idx INTEGER NOT NULL, who TEXT NOT"
            " NULL, text TEXT NOT NULL, started_at REAL, ended_at REAL, timings TEXT NOT NULL"
            " DEFAULT '{}', UNIQUE (call_id, idx));"
            "CREATE TABLE console_users (name TEXT PRIMARY KEY, role TEXT NOT NULL,"
            " password_hash TEXT NOT NULL, created_at REAL NOT NULL);"
            "INSERT INTO console_users VALUES ('anna', 'admin', 'x', 1.0);"
            "INSERT INTO calls (call_id, line, started_at, ended_at, ended_by)"
            " VALUES ('old', 'ru-gsm', 1000.0, 1030.0, 'caller_hangup');"
            "INSERT INTO calls (call_id, line, started_at) VALUES ('killed', 'ru-gsm', 1500.0);"
            "INSERT INTO turns (call_id, idx, who, text, started_at, ended_at, timings) VALUES"
            " ('old', 0, 'caller', 'ЗАПИШИТЕ меня', 1001.0, 1002.0, '{}'),"
            " ('old', 1, 'secretary', 'Записала.', 1003.0, 1004.0, '{\"v2v_ms\": 640.5}'),"
            " ('old', 2, 'secretary', 'Ещё?', 1005.0, 1006.0, 'not json');"
            "PRAGMA user_version=3;"
        )
    async with CallStore(path, node="box-a") as store:
        assert await store.close_orphans() == 1  # the old program's call left open
        assert (await store.get_call("killed") or {})["ended_by"] == "app_crashed"
        found, total = await store.search_calls(words="запишите")
        assert total == 1 and found[0]["call_id"] == "old" and found[0]["node"] is None
        assert await store.reply_latencies(900.0, 1100.0) == [(1003.0, 640.5)]
        call = await store.get_call("old")
        assert call is not None and len(call["turns"]) == 3
        assert call["turns"][0]["text"] == "ЗАПИШИТЕ меня"
        await store.start_call("new", "ch", "ru-gsm", None, None, "ru", started_at=2000.0)
        assert (await store.get_call("new") or {})["node"] == "box-a"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SQLITE_USER_VERSION
        assert db.execute("SELECT name FROM console_users").fetchall() == [("anna",)]


async def test_each_call_names_its_node_and_orphans_are_closed_by_their_own(
    db_target: Path | str,
) -> None:
    """Two boxes share a database: each closes only the calls it left open (the other's
    may be live)."""
    async with CallStore(db_target, node="box-a") as a, CallStore(db_target, node="box-b") as b:
        await a.start_call("a1", "ch", "ru", None, None, "ru", started_at=10.0)
        await b.start_call("b1", "ch", "ru", None, None, "ru", started_at=11.0)
        assert await a.close_orphans() == 1
        one, two = await a.get_call("a1"), await a.get_call("b1")
        assert one is not None and one["node"] == "box-a" and one["ended_by"] == "app_crashed"
        assert two is not None and two["node"] == "box-b" and two["ended_at"] is None
        page, total = await b.search_calls(node="box-b")
        assert total == 1 and page[0]["call_id"] == "b1"


async def test_search_is_case_blind_in_any_script_and_takes_wildcards_literally(
    store: CallStore,
) -> None:
    await store.start_call("c1", "ch", "ru", None, "+7 (916) 100%", "ru", started_at=1.0)
    await store.start_call("c2", "ch", "en", None, "+7916_200", "en", started_at=2.0)
    await store.add_turn("c1", "caller", "Здравствуйте, СЧЁТ не пришёл", 1.0, 2.0)
    await store.add_turn("c2", "caller", "Straße closed? ÉTÉ", 2.0, 3.0)
    for words, expected in (("счёт", ["c1"]), ("здравствуйте пришёл", ["c1"]),
                            ("STRASSE", ["c2"]), ("été", ["c2"]), ("счёт été", [])):
        page, total = await store.search_calls(words=words)
        assert [c["call_id"] for c in page] == expected and total == len(expected), words
    for caller, expected in (("100%", ["c1"]), ("%", ["c1"]), ("_", ["c2"]), ("916", ["c2", "c1"])):
        page, _ = await store.search_calls(caller=caller)
        assert [c["call_id"] for c in page] == expected, caller


async def test_pages_of_calls_are_newest_first_with_their_own_turn_counts(
    store: CallStore,
) -> None:
    """Pages cut anywhere in the list: the calls in order (ties by call_id), each with its
    own turns counted, and the total of all matches."""
    for i in range(12):  # c00 and c01 at the same time: call_id breaks the tie
        await store.start_call(f"c{i:02d}", "ch", "ru" if i % 2 else "en", None, None, "ru",
                               started_at=float(max(i, 1)))
        for k in range(i % 4):
            await store.add_turn(f"c{i:02d}", "caller", f"turn {k}", float(i), float(i) + 0.5)
    newest_first = [f"c{i:02d}" for i in range(11, -1, -1)]
    for offset in (0, 5, 10):
        page, total = await store.search_calls(5, offset)
        assert total == 12
        assert [c["call_id"] for c in page] == newest_first[offset:offset + 5]
        assert [c["turn_count"] for c in page] == [int(c["call_id"][1:]) % 4 for c in page]
    page, total = await store.search_calls(2, 1, line="ru")
    assert total == 6 and [c["call_id"] for c in page] == ["c09", "c07"]
    assert [c["call_id"] for c in await store.list_calls(3)] == newest_first[:3]


async def test_several_stores_opening_a_new_database_at_once_all_open(
    db_target: Path | str,
) -> None:
    """Several processes (or the app and its console) opening an empty database at once:
    its schema is made once, and every one of them can write."""
    stores = [CallStore(db_target, node=f"n{i}") for i in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        await asyncio.gather(*(s.start_call(f"c{i}", "ch", None, None, None, "ru")
                               for i, s in enumerate(stores)))
        assert (await stores[0].search_calls())[1] == 4
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_opening_another_store_keeps_the_first_ones_sqlite_locks(tmp_path: Path) -> None:
    """The app opens its call store, then the console opens the accounts on the same file.
    SQLite's locks are POSIX locks, which a process loses on a file when it closes any
    descriptor of it: the second open must not touch the database file itself, or another
    process's last connection takes itself for the last one and deletes the WAL from under
    the app ("disk I/O error", rows that vanish)."""
    path = tmp_path / "calls.sqlite3"
    async with CallStore(path) as app_store:
        await app_store.start_call("c1", "ch", "ru", None, None, "ru", started_at=1.0)
        async with CallStore(path):  # the second opener (the console's accounts, say)
            pass
        reader = (  # another process's reader (a CLI, a report, a test), closed at its end
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "print(c.execute('SELECT COUNT(*) FROM calls').fetchone()[0]); c.close()")
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-c", reader, str(path)], capture_output=True,
            text=True, timeout=60, check=True)
        assert done.stdout.strip() == "1"
        wal_kept = await asyncio.to_thread(Path(f"{path}-wal").exists)
        assert wal_kept, "the WAL was deleted under an open store"
        await app_store.add_turn("c1", "caller", "алло", 1.0, 2.0)
        assert len(await app_store.turns("c1")) == 1
