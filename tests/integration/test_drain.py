"""The secretary is stopped (SIGTERM, as `systemctl restart` sends it) in the middle of a
call: the caller is not hung up but hears a short phrase and goes to the line's fallback (the
staff phone), a call that arrives meanwhile goes there too, and every record is closed. A
second signal stops at once, still closing the record. Real Asterisk, sipp as Twilio
(127.0.0.2) and as staff phone 200, the real app."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from lineskit import AriEvents, sip_invite
from test_app_death import staff_answered, wait_for_media_leg

from testkit.local import LocalApp, write_config
from testkit.staff import StaffPhone

pytestmark = pytest.mark.integration
TWILIO_DID = "+15550100100"  # line twilio-test (English), SECRETARY_FALLBACK=staff
DRAIN_S = 15.0
CUT_DRAIN_S = 6.5  # drain_s - HAND_BACK_S (6 s): the greeting is cut 0.5 s after the signal


def handed_back(event: dict[str, Any]) -> bool:
    """A channel entered the dialplan's hand-back extension."""
    return (event["type"] == "ChannelDialplan"
            and event["channel"].get("dialplan", {}).get("exten") == "handoff")


def back(events: list[dict[str, Any]]) -> set[str]:
    """The channels handed back to the dialplan."""
    return {e["channel"]["id"] for e in events if handed_back(e)}


def answers(events: list[dict[str, Any]]) -> int:
    """How many calls the staff phone has answered."""
    return len({e["channel"]["id"] for e in events if staff_answered(e)})


def stored_calls(database: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(database) as db:
        db.row_factory = sqlite3.Row
        calls = [dict(row) for row in db.execute("SELECT * FROM calls")]
        for call in calls:
            rows = list(db.execute(
                "SELECT text, timings FROM turns WHERE call_id = ? AND who = 'secretary' "
                "ORDER BY idx", (call["call_id"],)))
            call["said"] = [row[0] for row in rows]
            call["cut"] = [bool(json.loads(row[1]).get("interrupted")) for row in rows]
    return calls


@pytest.mark.parametrize("drain_s", [DRAIN_S, CUT_DRAIN_S], ids=["after-reply", "reply-cut"])
def test_sigterm_mid_call_hands_the_caller_to_staff(
    asterisk_testbed: Any, tmp_path: Path, drain_s: float
) -> None:
    """With time to spare the greeting is finished before the hand-back; with little, it is
    cut short (the record says so) and the caller is still handed back, not hung up."""
    config = write_config(tmp_path, {"shutdown": {"drain_s": drain_s}})
    app = LocalApp(config, tmp_path / "secretary.log").start()
    proc = app.proc
    assert proc is not None

    async def scenario() -> tuple[Any, float, set[str]]:
        async with StaffPhone(tmp_path / "staff", "answer", calls=2), \
                AriEvents("lines-test") as ari:
            first = asyncio.create_task(asyncio.to_thread(
                sip_invite, tmp_path / "caller", local_ip="127.0.0.2", number=TWILIO_DID,
                timeout_s=60,
            ))
            assert await asyncio.to_thread(wait_for_media_leg, 20), app.output[-2000:]
            await asyncio.sleep(1.0)  # the greeting is being spoken
            signalled = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            # a call that comes while the app stops is not answered by it
            second = asyncio.create_task(asyncio.to_thread(
                sip_invite, tmp_path / "caller2", local_ip="127.0.0.2", number=TWILIO_DID,
                timeout_s=60,
            ))
            await ari.wait(lambda e: handed_back(e) and len(back(ari.events)) == 2, DRAIN_S + 10)
            after = time.monotonic() - signalled
            channels = back(ari.events)
            # both are put through (then no unanswered INVITE is left for the next test)
            up = await ari.wait(lambda e: staff_answered(e) and answers(ari.events) == 2, 15)
            await ari.hang_up_all()
            await asyncio.gather(first, second)
            return up, after, channels

    try:
        up, after, channels = asyncio.run(scenario())
        rc = app.wait_exit(DRAIN_S + 15)
    finally:
        app.stop()
    assert up is not None, "the staff phone did not answer after SIGTERM:\n" + app.output[-3000:]
    assert after < DRAIN_S + 10, after
    assert len(channels) == 2, f"both calls should reach the hand-back: {channels}"
    assert rc == 0, app.output[-3000:]
    assert "handing 1 live call(s) back" in app.output
    [call] = stored_calls(tmp_path / "calls.sqlite3")  # the second was never the app's
    assert call["ended_at"] is not None and call["ended_by"] == "handed_back", call
    greeting, *rest = call["said"]
    assert any("put you through" in said for said in rest), call["said"]
    assert call["cut"][0] is (drain_s == CUT_DRAIN_S), (greeting, call["cut"])


def test_second_signal_stops_at_once_and_closes_the_record(
    asterisk_testbed: Any, tmp_path: Path
) -> None:
    config = write_config(tmp_path, {"shutdown": {"drain_s": 60}})
    app = LocalApp(config, tmp_path / "secretary.log").start()
    proc = app.proc
    assert proc is not None

    async def scenario() -> float:
        call = asyncio.create_task(asyncio.to_thread(
            sip_invite, tmp_path / "caller", local_ip="127.0.0.2", number=TWILIO_DID,
            timeout_s=60,
        ))
        assert await asyncio.to_thread(wait_for_media_leg, 20), app.output[-2000:]
        await asyncio.sleep(0.5)  # the greeting has started: no hand-back before its end
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        await asyncio.to_thread(app.wait_exit, 20)
        took = time.monotonic() - signalled
        await call  # the app hung it up
        return took

    try:
        took = asyncio.run(scenario())
    finally:
        app.stop()
    assert proc.returncode == 0, app.output[-3000:]
    assert took < 10, f"the second signal should stop the app at once, it took {took:.1f} s"
    [call] = stored_calls(tmp_path / "calls.sqlite3")
    assert call["ended_at"] is not None and call["ended_by"] == "app_shutdown", call
