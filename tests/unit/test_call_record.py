"""A call's record on a real SQLite store: loop times become wall-clock times, and a write
that fails is logged, not raised (the call goes on)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from ari_app.call.ending import EndReason
from ari_app.call.record import CallRecord
from ari_app.notify.message import StaffMessage
from ari_app.storage import CallStore


async def test_a_call_recorded_from_open_to_close(tmp_path: Path) -> None:
    store = CallStore(tmp_path / "calls.sqlite3")
    await store.open()
    loop = asyncio.get_running_loop()
    record = CallRecord(store, "c1", loop)
    await record.open("chan-1", "ru", "PJSIP/alice", "+79990001122", "ru")
    now = loop.time()
    assert await record.turn("caller", "Алло", now - 2.0, now - 1.0, {"x": 1.234}) == 0
    assert await record.turn("secretary", "Слушаю.", now - 0.5, now, {}) == 1
    await record.drop_turns([1])
    assert await record.message(StaffMessage("ru", name="Пётр")) > 0
    await record.transferred("101")
    await record.close(EndReason.CALLER_HANGUP, None, (tmp_path / "a.wav", tmp_path / "b.wav"))
    call = await store.get_call("c1")
    await store.close()
    assert call is not None and call["ended_by"] == "caller_hangup"
    assert call["transferred_to"] == "101" and call["caller_wav"].endswith("a.wav")
    [turn] = call["turns"]
    assert turn["text"] == "Алло" and turn["timings"] == {"x": 1.2}
    assert turn["ended_at"] == pytest.approx(time.time() - 1.0, abs=0.5)


async def test_writes_to_a_closed_store_are_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = CallStore(tmp_path / "calls.sqlite3")  # never opened
    failed: list[str] = []
    record = CallRecord(store, "c2", asyncio.get_running_loop(), on_failure=failed.append)
    await record.open("chan-2", "en", "PJSIP/bob", "", "en")
    assert await record.turn("caller", "Hello", 0.0, 1.0, {}) is None
    assert await record.message(StaffMessage("en", name="Ann")) == 0
    await record.drop_turns([0])
    await record.transferred("102")
    await record.close(EndReason.ERROR, "boom", None)
    assert sum("call c2: could not" in r.getMessage() for r in caplog.records) == 6
    assert failed == ["open", "turn", "message", "drop_turns", "transfer", "close"]  # metrics
