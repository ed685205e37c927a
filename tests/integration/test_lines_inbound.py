"""Calls coming in on each kind of line reach the secretary's Stasis app with the line's
variables; calls from where no line is, and blocklisted callers, never do.

A listener registered as the ARI app `secretary` stands in for the app (the real one is not
started): it checks the StasisStart's channel variables and hangs the call up.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from lineskit import AriEvents, db_del, db_put, destroyed, sip_invite, stasis_start

pytestmark = pytest.mark.integration

TWILIO_DID = "+15550100100"  # asterisk/testbed/extensions_local.conf [secretary-numbers]


def channelvars(event: dict[str, Any]) -> dict[str, str]:
    return dict(event["channel"].get("channelvars") or {})


async def answer_and_hang_up(ari: AriEvents, event: dict[str, Any]) -> None:
    channel = event["channel"]["id"]
    await ari.ari("POST", f"/channels/{channel}/answer")
    await asyncio.sleep(0.3)
    await ari.ari("DELETE", f"/channels/{channel}")


@pytest.fixture
def clean_db(asterisk_testbed: Any) -> Any:
    """Night mode off and the test numbers off the blocklist, before and after."""
    keys = [("secretary", "night"), ("blocklist", "+79990001122"), ("blocklist", "anonymous")]
    for family, key in keys:
        db_del(family, key)
    yield
    for family, key in keys:
        db_del(family, key)


def test_twilio_call_from_allowed_address_reaches_app(clean_db: Any, tmp_path: Path) -> None:
    async def scenario() -> tuple[dict[str, Any] | None, Any]:
        async with AriEvents("secretary") as ari:
            call = asyncio.create_task(asyncio.to_thread(
                sip_invite, tmp_path, local_ip="127.0.0.2", number=TWILIO_DID
            ))
            start = await ari.wait(stasis_start("secretary"), 10)
            if start is not None:
                await answer_and_hang_up(ari, start)
            return start, await call

    start, sip = asyncio.run(scenario())
    assert start is not None, f"no StasisStart in app secretary:\n{sip.log[-3000:]}"
    assert start["channel"]["name"].startswith("PJSIP/twilio-")  # the template's endpoint
    assert start["channel"]["dialplan"]["context"] == "secretary-inbound"
    assert channelvars(start) == {
        "SECRETARY_LINE": "twilio-test", "SECRETARY_LANG": "en",
        "SECRETARY_PERSONA": "twilio-persona", "SECRETARY_NIGHT": "0",
        "SECRETARY_FALLBACK": "staff",  # which phrase a hand-back says (staff, or call again)
    }
    assert sip.rc == 0, sip.log[-3000:]


@pytest.mark.parametrize("from_user", ["+15557654321", "twilio"])
def test_same_invite_from_other_address_is_refused(
    clean_db: Any, tmp_path: Path, from_user: str
) -> None:
    """127.0.0.3 is not Twilio: no endpoint matches (From: twilio does not make it one,
    identify_by=ip), so the INVITE is refused and no channel is ever created."""
    async def scenario() -> tuple[list[str], Any]:
        async with AriEvents("secretary") as ari:
            sip = await asyncio.to_thread(
                sip_invite, tmp_path, local_ip="127.0.0.3", number=TWILIO_DID,
                from_user=from_user, timeout_s=8,
            )
            await asyncio.sleep(0.5)
            return ari.channels_created(), sip

    created, sip = asyncio.run(scenario())
    assert sip.rc != 0
    assert sip.final.split()[1] in {"401", "403"}, sip.log[-3000:]
    assert created == []


def test_twilio_call_to_unknown_number_is_refused(clean_db: Any, tmp_path: Path) -> None:
    async def scenario() -> tuple[Any, dict[str, Any] | None]:
        async with AriEvents("secretary") as ari:
            sip = await asyncio.to_thread(
                sip_invite, tmp_path, local_ip="127.0.0.2", number="+15550100999", timeout_s=8
            )
            return sip, await ari.wait(stasis_start("secretary"), 0.5)

    sip, start = asyncio.run(scenario())
    assert start is None
    assert sip.final == "SIP/2.0 404 Not Found", sip.log[-3000:]


@pytest.mark.parametrize(
    ("modem", "expected_line", "expected_persona"),
    [("quectel-test", "gsm-test", "gsm-persona"), ("quectel9", "gsm", "")],
)
def test_gsm_call_reaches_app(
    clean_db: Any, modem: str, expected_line: str, expected_persona: str
) -> None:
    """chan_quectel cannot run here (no modem). A Local channel enters from-gsm at extension s
    carrying what chan_quectel sets on an incoming call: the caller's number as CALLERID(num),
    the QUECTEL JSON variable with the device name, and the channel language."""
    quectel = json.dumps({"name": modem, "state": "Ring", "gsm": "registered",
                          "imei": "000000000000000", "provider_name": "Test"})

    async def scenario() -> dict[str, Any] | None:
        async with AriEvents("secretary,lines-test") as ari:
            await ari.originate_local(
                "s", "from-gsm", channel_id="lines-gsm", caller="+79161234567",
                variables={"QUECTEL": quectel, "CHANNEL(language)": "ru"},
            )
            start = await ari.wait(stasis_start("secretary"), 10)
            await ari.hang_up_all()
            return start

    start = asyncio.run(scenario())
    assert start is not None
    assert start["channel"]["caller"]["number"] == "+79161234567"
    expected = {"SECRETARY_LINE": expected_line, "SECRETARY_LANG": "ru",
                "SECRETARY_PERSONA": expected_persona, "SECRETARY_NIGHT": "0",
                "SECRETARY_FALLBACK": "staff"}
    assert channelvars(start) == expected


def test_sip_trunk_call_reaches_app(clean_db: Any) -> None:
    async def scenario() -> dict[str, Any] | None:
        async with AriEvents("secretary,lines-test") as ari:
            await ari.originate_local("7000", "from-sip-trunk", channel_id="lines-trunk")
            start = await ari.wait(stasis_start("secretary"), 10)
            await ari.hang_up_all()
            return start

    start = asyncio.run(scenario())
    assert start is not None
    assert channelvars(start)["SECRETARY_LINE"] == "provider-test"


@pytest.mark.parametrize(
    ("caller", "blocked_key"), [("+79990001122", "+79990001122"), ("", "anonymous")]
)
def test_blocklisted_caller_is_refused(clean_db: Any, caller: str, blocked_key: str) -> None:
    """On every line: the blocklist is checked in secretary-inbound, before the app."""
    async def call(context: str, exten: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        async with AriEvents("secretary,lines-test") as ari:
            channel_id = f"lines-block-{context}"
            variables = {"QUECTEL": json.dumps({"name": "quectel-test"})}
            await ari.originate_local(exten, context, channel_id=channel_id, caller=caller,
                                      variables=variables)
            in_app, gone_2 = stasis_start("secretary"), destroyed(f"{channel_id}-2")
            await ari.wait(lambda e: in_app(e) or gone_2(e), 10)
            gone, start = await ari.wait(gone_2, 0), await ari.wait(in_app, 0)
            await ari.hang_up_all()
            return gone, start

    lines = [("from-gsm", "s"), ("from-twilio", TWILIO_DID), ("from-sip-trunk", "7000")]
    db_put("blocklist", blocked_key, "spam")
    for context, exten in lines:
        gone, start = asyncio.run(call(context, exten))
        assert start is None, f"{context}: blocked caller reached the app"
        assert gone is not None and gone["cause"] == 21, (context, gone)  # call rejected
    db_del("blocklist", blocked_key)
    for context, exten in lines:  # and without the entry, the same call gets through
        _, start = asyncio.run(call(context, exten))
        assert start is not None, f"{context}: caller not blocked any more, yet no StasisStart"


def test_night_mode_reaches_app_as_variable(clean_db: Any) -> None:
    async def scenario() -> dict[str, Any] | None:
        async with AriEvents("secretary,lines-test") as ari:
            await ari.originate_local(TWILIO_DID, "from-twilio", channel_id="lines-night")
            start = await ari.wait(stasis_start("secretary"), 10)
            await ari.hang_up_all()
            return start

    db_put("secretary", "night", "1")
    start = asyncio.run(scenario())
    assert start is not None and channelvars(start)["SECRETARY_NIGHT"] == "1"
