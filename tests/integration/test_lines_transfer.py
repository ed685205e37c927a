"""The transfer contexts the app uses (fixed names): secretary-staff tells the app how ringing
a person went through the Local channel's hangup cause, secretary-transfer rings a target
and then its voicemail; night mode and the staff phones' feature codes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lineskit import AriEvents, db_del, db_get, db_put, destroyed

from testkit.staff import StaffPhone

pytestmark = pytest.mark.integration


@pytest.fixture
def night_off(asterisk_testbed: Any) -> Any:
    db_del("secretary", "night")
    yield
    db_del("secretary", "night")


async def ring_staff(target: str, channel_id: str, within_s: float = 20) -> dict[str, Any] | None:
    """What the app does for an attended transfer: Local/<target>@secretary-staff/n; the
    ChannelDestroyed of the half the app holds, with its cause."""
    async with AriEvents("lines-test") as ari:
        resp = await ari.ari("POST", "/channels", endpoint=f"Local/{target}@secretary-staff/n",
                             app="lines-test", channelId=channel_id, timeout=30)
        assert resp.status_code == 200, resp.text
        return await ari.wait(destroyed(channel_id), within_s)


@pytest.mark.parametrize(
    ("behaviour", "cause", "rang"), [("busy", 17, True), ("no_answer", 19, True)]
)
def test_attended_transfer_reports_why_nobody_took_it(
    night_off: Any, tmp_path: Path, behaviour: str, cause: int, rang: bool
) -> None:
    async def scenario() -> tuple[dict[str, Any] | None, int]:
        async with StaffPhone(tmp_path, behaviour) as phone:
            gone = await ring_staff("200", f"lines-att-{behaviour}")
        return gone, phone.invites

    gone, invites = asyncio.run(scenario())
    assert gone is not None, "the staff leg never ended"
    assert gone["cause"] == cause, gone
    assert invites == 1


def test_attended_transfer_to_unknown_target_or_at_night(night_off: Any, tmp_path: Path) -> None:
    async def scenario() -> tuple[Any, Any, int]:
        async with StaffPhone(tmp_path, "answer") as phone:
            unknown = await ring_staff("4951234567", "lines-att-unknown", 5)
            db_put("secretary", "night", "1")
            night = await ring_staff("200", "lines-att-night", 5)
        return unknown, night, phone.invites

    unknown, night, invites = asyncio.run(scenario())
    assert unknown is not None and unknown["cause"] == 1  # not in secretary-directory
    assert night is not None and night["cause"] == 19  # night: nobody answers, at once
    assert invites == 0


def test_blind_transfer_rings_target_then_answers(night_off: Any, tmp_path: Path) -> None:
    """The caller (here a Local channel) continues to secretary-transfer,sales,1: the sales
    ring group rings (200 answers)."""
    async def scenario() -> tuple[Any, int]:
        async with AriEvents("lines-test") as ari, StaffPhone(tmp_path, "answer") as phone:
            resp = await ari.ari("POST", "/channels", endpoint="Local/sales@secretary-transfer",
                                 app="lines-test", channelId="lines-blind", timeout=30)
            assert resp.status_code == 200, resp.text
            up = await ari.wait(
                lambda e: e["type"] == "ChannelStateChange" and e["channel"]["state"] == "Up"
                and e["channel"]["name"].startswith("PJSIP/200-"), 10)
            await ari.hang_up_all()
        return up, phone.invites

    up, invites = asyncio.run(scenario())
    assert up is not None and invites == 1


@pytest.mark.parametrize(
    ("code", "before", "after"),
    [("*81", None, "1"), ("*82", "1", "0"), ("*80", "0", "1"), ("*80", "1", "0")],
)
def test_night_mode_feature_codes(
    night_off: Any, code: str, before: str | None, after: str
) -> None:
    """A staff phone dials *80 (toggle), *81 (on), *82 (off) in from-internal."""
    if before is not None:
        db_put("secretary", "night", before)

    async def scenario() -> Any:
        async with AriEvents("lines-test") as ari:
            resp = await ari.ari("POST", "/channels", endpoint=f"Local/{code}@from-internal",
                                 app="lines-test", channelId="lines-night-code", timeout=10)
            assert resp.status_code == 200, resp.text
            return await ari.wait(destroyed("lines-night-code"), 10)

    assert asyncio.run(scenario()) is not None
    assert db_get("secretary", "night") == after
