"""The real secretary dies mid-call (SIGKILL) on a line with a fallback: its watchdog (the
caller's TIMEOUT(absolute), renewed while the app lives; ari.watchdog_s, here 3 s) lapses and
Asterisk hands the caller to the staff phone instead of leaving them in silence in Stasis; in
night mode to voicemail, without ringing anyone. Real Asterisk, sipp as Twilio (127.0.0.2)
and as staff phone 200, the real app."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from callkit import ari_get
from lineskit import AriEvents, in_voicemail, sip_invite

from testkit.local import LocalApp, write_config
from testkit.staff import StaffPhone

pytestmark = pytest.mark.integration
TWILIO_DID = "+15550100100"  # line twilio-test, SECRETARY_FALLBACK=staff (from-twilio)


def staff_answered(event: dict[str, Any]) -> bool:
    return (event["type"] == "ChannelStateChange" and event["channel"]["state"] == "Up"
            and event["channel"]["name"].startswith("PJSIP/200-"))


def staff_rung(event: dict[str, Any]) -> bool:
    return event["type"] == "ChannelCreated" and event["channel"]["name"].startswith("PJSIP/200-")



def wait_for_media_leg(timeout_s: float) -> bool:
    """The app has the call: its externalMedia channel exists."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(c["id"].startswith("secretary-media-") for c in ari_get("/channels")):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("night", [False, True], ids=["day", "night"], indirect=True)
def test_app_killed_mid_call_the_staff_phone_rings(night: bool, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"ari": {"watchdog_s": 3}})
    app = LocalApp(config, tmp_path / "secretary.log").start()
    # by day the staff phone answers; at night the caller is in voicemail instead
    handed_over = in_voicemail if night else staff_answered

    async def scenario() -> tuple[Any, float, bool]:
        async with StaffPhone(tmp_path / "staff", "answer"), AriEvents("lines-test") as ari:
            call = asyncio.create_task(asyncio.to_thread(
                sip_invite, tmp_path / "caller", local_ip="127.0.0.2", number=TWILIO_DID,
                timeout_s=60,
            ))
            assert await asyncio.to_thread(wait_for_media_leg, 20), app.output[-2000:]
            await asyncio.sleep(1.0)  # the greeting has started
            killed = time.monotonic()
            app.proc.kill()
            up = await ari.wait(handed_over, 15)
            after = time.monotonic() - killed
            await asyncio.sleep(0.5)
            await ari.hang_up_all()
            await call
            return up, after, any(staff_rung(e) for e in ari.events)

    try:
        up, after, rang = asyncio.run(scenario())
    finally:
        app.proc.kill()
        app.proc.wait(timeout=10)
    if night:
        assert up is not None, "night mode: the caller did not reach voicemail after the app died"
        assert not rang, "night mode: the staff phone must not ring"
    else:
        assert up is not None, "the staff phone did not answer after the app died"
    assert after < 3 + 1 + 6, after  # the watchdog lapses within 3 s, then staff rings
