"""No call that comes in can go out again (toll fraud): every inbound context, and the two
contexts the app sends callers to, is tried with outside numbers in the forms a fraudster
dials. Each attempt must end without Asterisk ever creating a channel towards a SIP endpoint
or trunk (the listener sees every channel, subscribeAll): refused, or for from-gsm (whose
number is our own SIM) delivered to the secretary and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from lineskit import AriEvents, db_del, destroyed, sip_invite, stasis_start

pytestmark = pytest.mark.integration

OUTSIDE_NUMBERS = [
    "004930123456789",  # international, 00 prefix (Germany)
    "+74951234567",  # E.164 (Moscow)
    "+19005550199",  # premium rate (US 900)
    "011441234567890",  # international, NANP 011 prefix
    "90049301234567",  # 9 for an outside line, then international
    "989161234567",  # 9 + Russian 8 trunk prefix
    "8109312345678",  # Russian 8-10 international prefix
    "0",  # operator
]
REFUSING_CONTEXTS = [
    "from-twilio", "from-sip-trunk", "from-internal", "secretary-transfer", "secretary-staff",
]  # fmt: skip


def outbound_channel(event: dict[str, Any]) -> bool:
    return event["type"] == "ChannelCreated" and event["channel"]["name"].startswith("PJSIP/")


async def attempt(ari: AriEvents, context: str, number: str, channel_id: str) -> dict[str, Any]:
    """One Local call into `context` dialling `number`; what became of it."""
    await ari.originate_local(
        number, context, channel_id=channel_id, caller="+15557654321",
        variables={"QUECTEL": json.dumps({"name": "quectel-test"})},
    )
    in_app, gone = stasis_start("secretary", f"{channel_id}-2"), destroyed(f"{channel_id}-2")
    end = await ari.wait(lambda e: in_app(e) or gone(e), 10)
    await ari.hang_up_all()
    return end or {"type": "nothing within 10 s"}


@pytest.fixture
def night_off(asterisk_testbed: Any) -> None:
    db_del("secretary", "night")


def test_no_inbound_context_dials_an_outside_number(night_off: None) -> None:
    async def scenario() -> tuple[list[tuple[str, str, dict[str, Any]]], list[str]]:
        results = []
        async with AriEvents("secretary,lines-test") as ari:
            for i, (context, number) in enumerate(
                (c, n) for c in [*REFUSING_CONTEXTS, "from-gsm"] for n in OUTSIDE_NUMBERS
            ):
                results.append((context, number, await attempt(ari, context, number, f"fraud-{i}")))
            pjsip = [e["channel"]["name"] for e in ari.events if outbound_channel(e)]
        return results, pjsip

    results, pjsip = asyncio.run(scenario())
    assert pjsip == [], f"channels towards SIP endpoints were created: {pjsip}"
    for context, number, end in results:
        if context == "from-gsm":
            # Whatever a GSM caller "dialled", the call is ours: it goes to the secretary.
            assert end["type"] == "StasisStart", (context, number, end)
        else:
            assert end["type"] == "ChannelDestroyed", (context, number, end)
            # 1: refused by the context (unallocated number); 0: no extension of the context
            # matches at all (a "+" or one-digit number where targets are names), so the
            # Local channel found nothing to run.
            assert end["cause"] in (0, 1), (context, number, end)


@pytest.mark.parametrize("number", ["004930123456789", "+74951234567", "90049301234567"])
def test_twilio_sip_call_to_outside_number_is_refused(
    night_off: None, tmp_path: Path, number: str
) -> None:
    """The same over SIP: an INVITE from Twilio's address for an outside number."""
    async def scenario() -> tuple[Any, list[str]]:
        async with AriEvents("secretary") as ari:
            sip = await asyncio.to_thread(
                sip_invite, tmp_path, local_ip="127.0.0.2", number=number, timeout_s=8
            )
            await asyncio.sleep(0.3)
            return sip, [e["channel"]["name"] for e in ari.events
                         if e["type"] == "ChannelCreated"]

    sip, created = asyncio.run(scenario())
    assert sip.final == "SIP/2.0 404 Not Found", sip.log[-2000:]
    assert [name for name in created if not name.startswith("PJSIP/twilio-")] == []
