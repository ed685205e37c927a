"""CallTasks: one call's background tasks in a TaskGroup; a failure is logged and the call
goes on, `stop()` cancels the background but lets record writes finish, nothing is left."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ari_app.call.tasks import CallTasks


async def forever() -> None:
    await asyncio.Event().wait()


async def test_a_failing_task_is_logged_and_the_others_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> None:
        raise RuntimeError("watchdog: ARI said no")

    async with CallTasks("c1") as tasks:
        steady = tasks.spawn(forever(), "pump")
        failed = tasks.spawn(broken(), "watchdog")
        assert steady is not None and failed is not None
        await asyncio.wait({failed})
        assert not steady.done()  # the call (and its pump) went on
        await tasks.stop()
        assert steady.cancelled()
    assert "call c1: watchdog failed" in caplog.text
    assert "ARI said no" in caplog.text


async def test_stop_lets_record_writes_finish_and_cancels_the_rest() -> None:
    written: list[str] = []
    gate = asyncio.Event()

    async def write() -> str:
        await gate.wait()
        written.append("turn")
        return "turn"

    async with CallTasks("c2") as tasks:
        background = tasks.spawn(forever(), "draft")
        record = tasks.spawn(write(), "dtmf-record", cancel_on_stop=False)
        assert background is not None and record is not None
        stopping = asyncio.ensure_future(tasks.stop())
        await asyncio.sleep(0)
        assert background.cancelled() or not stopping.done()
        gate.set()
        await stopping
        assert written == ["turn"] and record.result() == "turn"
        assert background.cancelled()
        assert tasks.running == 0


async def test_nothing_starts_once_the_call_is_over(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ran: list[int] = []

    async def late() -> None:
        ran.append(1)

    async with CallTasks("c3") as tasks:
        await tasks.stop()
        assert tasks.spawn(late(), "dtmf-record", cancel_on_stop=False) is None
    await asyncio.sleep(0)
    assert ran == []
    assert "dtmf-record not started" in caplog.text


async def test_leaving_the_call_awaits_what_it_started() -> None:
    finished: list[str] = []

    async def short() -> None:
        await asyncio.sleep(0.01)
        finished.append("write")

    async with CallTasks("c4") as tasks:
        tasks.spawn(short(), "dtmf-record", cancel_on_stop=False)
        pump = tasks.spawn(forever(), "pump")
    assert finished == ["write"]  # awaited on the way out
    assert pump is not None and pump.cancelled()  # and the background cancelled


async def test_a_call_cancelled_from_outside_leaves_nothing_running() -> None:
    started = asyncio.Event()
    inner: list[asyncio.Task[None | None]] = []

    async def call() -> None:
        async with CallTasks("c5") as tasks:
            task = tasks.spawn(forever(), "watchdog")
            assert task is not None
            inner.append(task)
            started.set()
            await forever()

    outer = asyncio.ensure_future(call())
    await started.wait()
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert inner[0].cancelled()
