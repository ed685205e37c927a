"""The record spool: writes the database refused are kept in order, written when it takes
them again, saved to a file at stop and written at the next start. Real SQLite (a store
that is closed refuses every write, as a full or locked one does)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from ari_app.call.ending import EndReason
from ari_app.call.record import CallRecord
from ari_app.config import Config
from ari_app.doctor.live import spool_check
from ari_app.record_spool import RecordSpool, Write, read_spool
from ari_app.storage import CallStore


async def a_call_with_the_database_away(store: CallStore, spool: RecordSpool) -> None:
    loop = asyncio.get_running_loop()
    record = CallRecord(store, "c1", loop, spool=spool)
    await record.open("chan-1", "gsm", "Quectel/modem", "+79990001122", "ru")
    now = loop.time()
    assert await record.turn("secretary", "Здравствуйте!", now - 3, now - 2, {}) is None
    assert await record.turn("caller", "Алло", now - 1.5, now - 1, {"stt_ms": 80.04}) is None
    await record.close(EndReason.CALLER_HANGUP, None, None)


async def test_refused_writes_wait_and_are_written_in_order(tmp_path: Path) -> None:
    store = CallStore(tmp_path / "calls.sqlite3")  # not open: every write is refused
    spool = RecordSpool(store, tmp_path / "spool.jsonl")
    await a_call_with_the_database_away(store, spool)
    assert spool.waiting() == 4
    assert await spool.flush() == 4  # still refused: nothing lost, nothing reordered
    await store.open()
    assert await spool.flush() == 0
    call = await store.get_call("c1")
    await store.close()
    assert call is not None and call["ended_by"] == "caller_hangup"
    assert [t["text"] for t in call["turns"]] == ["Здравствуйте!", "Алло"]
    assert call["turns"][1]["timings"] == {"stt_ms": 80.0}
    assert call["ended_at"] >= call["turns"][1]["ended_at"]  # times from when it happened


async def test_a_call_with_writes_waiting_queues_the_next_behind_them(tmp_path: Path) -> None:
    store = CallStore(tmp_path / "calls.sqlite3")
    spool = RecordSpool(store, tmp_path / "spool.jsonl")
    loop = asyncio.get_running_loop()
    record = CallRecord(store, "c2", loop, spool=spool)
    await record.open("chan-2", "sip", "PJSIP/a", "", "en")  # refused
    await store.open()
    # the database is back, but the call's start still waits: its turn must not go first
    assert await record.turn("caller", "Hello", loop.time() - 1, loop.time(), {}) is None
    other = CallRecord(store, "c3", loop, spool=spool)  # another call is not held up
    await other.open("chan-3", "sip", "PJSIP/b", "", "en")
    assert await store.get_call("c3") is not None
    assert await spool.flush() == 0
    call = await store.get_call("c2")
    await store.close()
    assert call is not None and [t["text"] for t in call["turns"]] == ["Hello"]


async def test_saved_at_stop_and_written_at_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "calls.sqlite3.spool.jsonl"
    store = CallStore(tmp_path / "calls.sqlite3")
    spool = RecordSpool(store, path)
    await a_call_with_the_database_away(store, spool)
    spool.save()
    assert len(read_spool(path)) == 4
    async with CallStore(tmp_path / "calls.sqlite3") as fresh:
        again = RecordSpool(fresh, path)
        assert again.load() == 4
        assert await again.flush() == 0
        again.save()  # nothing waits: the file goes
        call = await fresh.get_call("c1")
    assert not path.exists()
    assert call is not None and len(call["turns"]) == 2


def test_a_damaged_spool_line_is_skipped_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "spool.jsonl"
    good = '{"op": "set_transferred", "call_id": "c1", "args": {"target": "101"}}'
    path.write_text(f'{good}\n{{"op": "drop_database", "call_id": "x", "args": {{}}}}\nnot json\n')
    with caplog.at_level(logging.ERROR):
        writes = read_spool(path)
    assert writes == [Write("set_transferred", "c1", {"target": "101"})]
    assert f"{path}:2: skipped" in caplog.text and f"{path}:3: skipped" in caplog.text


async def test_doctor_says_when_writes_wait(tmp_path: Path) -> None:
    cfg = Config.model_validate({
        "ari": {"url": "http://127.0.0.1:8088", "username": "u", "password": "p"},
        "storage": {"database": str(tmp_path / "calls.sqlite3")},
    })
    assert spool_check(cfg).status == "ok"
    spool = RecordSpool(CallStore(cfg.storage.database), cfg.storage.spool_path)
    await a_call_with_the_database_away(spool.store, spool)
    spool.save()
    check = spool_check(cfg)
    assert check.status == "warn" and "4 record write(s) of 1 call(s)" in check.detail
