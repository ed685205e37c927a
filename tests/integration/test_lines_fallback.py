"""When the secretary cannot take a call, people do: the line's fallback target (the staff
ring group) rings, then its voicemail; in night mode voicemail at once. Also when the app
dies in the middle of a call (its watchdog: the channel's absolute timeout).

The staff phone is extension 200 of asterisk/etc/pjsip.conf, which the testbed points at a
sipp UAS on 127.0.0.1:5090 (testkit.staff.StaffPhone). The caller is sipp playing
Twilio from 127.0.0.2.
"""

from __future__ import annotations

import asyncio
import math
import struct
from pathlib import Path
from typing import Any

import pytest
from lineskit import (
    AriEvents,
    db_del,
    db_put,
    sip_invite,
    stasis_start,
    voicemail_count,
)

from ari_app.media.codecs import ulaw_encode
from testkit.runner import place_call
from testkit.scenario import CallerLine
from testkit.staff import StaffPhone

pytestmark = pytest.mark.integration

TWILIO_DID = "+15550100100"  # line twilio-test, SECRETARY_FALLBACK=staff (from-twilio)


def staff_channel(event: dict[str, Any]) -> bool:
    """Asterisk created a channel to staff phone 200: it rang."""
    return event["type"] == "ChannelCreated" and event["channel"]["name"].startswith("PJSIP/200-")


def staff_answered(event: dict[str, Any]) -> bool:
    return (event["type"] == "ChannelStateChange" and event["channel"]["state"] == "Up"
            and event["channel"]["name"].startswith("PJSIP/200-"))


@pytest.fixture
def no_app(asterisk_testbed: Any) -> Any:
    """Night mode off before and after; no secretary is started by these tests."""
    db_del("secretary", "night")
    yield
    db_del("secretary", "night")


@pytest.fixture(scope="module")
def caller_message(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seconds of a 440 Hz tone, headerless 8 kHz mu-law: what the caller 'says'."""
    samples = [round(8000 * math.sin(2 * math.pi * 440 * n / 8000)) for n in range(3 * 8000)]
    path = tmp_path_factory.mktemp("caller") / "tone.ulaw"
    path.write_bytes(ulaw_encode(struct.pack(f"<{len(samples)}h", *samples)))
    return path


async def hang_up_when(ari: AriEvents, answered: Any, within_s: float) -> dict[str, Any] | None:
    """Wait for an event, then end every call (the staff and the caller hang up)."""
    event = await ari.wait(answered, within_s)
    await asyncio.sleep(0.5)
    await ari.hang_up_all()
    return event


def test_app_down_rings_staff_phone(no_app: Any, tmp_path: Path) -> None:
    async def scenario() -> tuple[Any, Any, Any]:
        async with (
            AriEvents("lines-test") as ari,
            StaffPhone(tmp_path / "staff", "answer") as phone,
        ):
            call = asyncio.create_task(asyncio.to_thread(
                sip_invite, tmp_path / "caller", local_ip="127.0.0.2", number=TWILIO_DID,
            ))
            up = await hang_up_when(ari, staff_answered, 15)
            return up, await call, phone

    up, caller, staff = asyncio.run(scenario())
    assert up is not None, f"staff phone 200 never answered:\n{staff.log[-3000:]}"
    assert "INVITE sip:200@127.0.0.1:5090" in staff.log
    assert "SIP/2.0 200 OK" in caller.responses, caller.log[-3000:]


def test_app_down_and_staff_not_answering_leaves_voicemail(
    no_app: Any, tmp_path: Path, caller_message: Path
) -> None:
    before = voicemail_count("staff")

    async def scenario() -> tuple[Any, bool]:
        async with AriEvents("lines-test") as ari, StaffPhone(tmp_path / "staff", "no_answer"):
            result = await place_call(
                exten=TWILIO_DID, local_ip="127.0.0.2", workdir=tmp_path / "caller",
                utterances=[CallerLine(caller_message, pause_before_ms=1500)],
                hangup="caller", hangup_wait_ms=500, timeout_s=40,
            )
            return result, any(staff_channel(e) for e in ari.events)

    result, rang = asyncio.run(scenario())
    assert rang, "the staff phone was not rung before voicemail"
    assert "SIP/2.0 200 OK" in result.sipp_log  # VoiceMail answered
    assert voicemail_count("staff") == before + 1


def test_night_mode_goes_to_voicemail_without_ringing(
    no_app: Any, tmp_path: Path, caller_message: Path
) -> None:
    db_put("secretary", "night", "1")
    before = voicemail_count("staff")

    async def scenario() -> tuple[Any, bool]:
        async with AriEvents("lines-test") as ari:
            result = await place_call(
                exten=TWILIO_DID, local_ip="127.0.0.2", workdir=tmp_path / "caller",
                utterances=[CallerLine(caller_message, pause_before_ms=1000)],
                hangup="caller", hangup_wait_ms=500, timeout_s=30,
            )
            return result, any(staff_channel(e) for e in ari.events)

    result, rang = asyncio.run(scenario())
    assert not rang, "night mode: the staff phone must not ring"
    assert "SIP/2.0 200 OK" in result.sipp_log
    assert voicemail_count("staff") == before + 1


def test_app_dying_mid_call_hands_caller_to_staff(no_app: Any, tmp_path: Path) -> None:
    """The app answers, sets its watchdog (TIMEOUT(absolute)) and dies without a word (its
    websocket just drops). Asterisk would keep the caller in Stasis forever; the timeout takes
    the call to secretary-inbound's T extension and the staff phone rings. A call that comes
    after the death finds no app (Stasis FAILED) and rings the staff as well."""
    async def scenario() -> tuple[Any, Any, Any]:
        async with StaffPhone(tmp_path / "staff", "answer") as phone:
            app = AriEvents("secretary")
            await app.__aenter__()
            call = asyncio.create_task(asyncio.to_thread(
                sip_invite, tmp_path / "caller", local_ip="127.0.0.2", number=TWILIO_DID,
            ))
            start = await app.wait(stasis_start("secretary"), 10)
            assert start is not None, "the call did not reach the app"
            channel = start["channel"]["id"]
            await app.ari("POST", f"/channels/{channel}/answer")
            await app.ari("POST", f"/channels/{channel}/variable",
                          variable="TIMEOUT(absolute)", value="2")
            app.die()
            await app.http.aclose()
            async with AriEvents("lines-test") as ari:
                up = await hang_up_when(ari, staff_answered, 20)
            return up, await call, phone

    up, _caller, staff = asyncio.run(scenario())
    assert up is not None, f"staff phone never answered after the app died:\n{staff.log[-2000:]}"
    assert "INVITE sip:200@127.0.0.1:5090" in staff.log

    async def next_call() -> Any:
        async with AriEvents("lines-test") as ari, StaffPhone(tmp_path / "staff2", "answer"):
            call = asyncio.create_task(asyncio.to_thread(
                sip_invite, tmp_path / "caller2", local_ip="127.0.0.2", number=TWILIO_DID,
            ))
            up = await hang_up_when(ari, staff_answered, 15)
            await call
            return up

    assert asyncio.run(next_call()) is not None, "a call after the app died did not reach staff"
