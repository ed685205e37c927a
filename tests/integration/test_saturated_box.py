"""A saturated secretary sends a new call to the line's fallback instead of answering it
(here: capacity.max_calls 1 and a second caller). Real Asterisk, sipp as Twilio (127.0.0.2)
and as staff phone 200, the real app and its /metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from lineskit import AriEvents, sip_invite
from test_app_death import staff_answered, wait_for_media_leg
from test_drain import TWILIO_DID, back, handed_back, stored_calls

from ari_app.metrics import read_samples
from testkit.local import LocalApp, write_config
from testkit.staff import StaffPhone

pytestmark = pytest.mark.integration
CONSOLE = "127.0.0.1:8079"


def test_a_call_over_the_limit_goes_to_staff(asterisk_testbed: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"capacity": {"max_calls": 1},
                                     "console": {"listen": CONSOLE}})
    app = LocalApp(config, tmp_path / "secretary.log").start()

    async def scenario() -> tuple[Any, set[str], dict[str, float]]:
        async with StaffPhone(tmp_path / "staff", "answer"), AriEvents("lines-test") as ari:
            first = asyncio.create_task(asyncio.to_thread(
                sip_invite, tmp_path / "first", local_ip="127.0.0.2", number=TWILIO_DID,
                timeout_s=60,
            ))
            assert await asyncio.to_thread(wait_for_media_leg, 20), app.output[-2000:]
            second = asyncio.create_task(asyncio.to_thread(
                sip_invite, tmp_path / "second", local_ip="127.0.0.2", number=TWILIO_DID,
                timeout_s=60,
            ))
            up = await ari.wait(staff_answered, 15)
            async with httpx.AsyncClient() as client:
                metrics = read_samples((await client.get(f"http://{CONSOLE}/metrics")).text)
            await ari.wait(handed_back, 1)
            channels = back(ari.events)
            await ari.hang_up_all()
            await asyncio.gather(first, second)
            return up, channels, metrics

    try:
        up, channels, metrics = asyncio.run(scenario())
    finally:
        assert app.stop() == 0, app.output[-3000:]
    assert up is not None, "the staff phone did not answer the second call:\n" + app.output[-3000:]
    assert len(channels) == 1, channels  # only the second call was handed back
    assert "saturated: call" in app.output and "capacity.max_calls: 1" in app.output
    assert metrics["secretary_calls_refused_total{reason=max_calls}"] == 1
    assert metrics["secretary_calls_active{line=twilio-test}"] == 1
    [call] = stored_calls(tmp_path / "calls.sqlite3")  # the app took only the first
    assert call["ended_at"] is not None
