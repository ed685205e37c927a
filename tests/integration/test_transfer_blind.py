"""Blind transfer on real calls: with the example persona set to blind transfers, the caller
who asks for the accounts department goes straight through the dialplan's
secretary-transfer context: by day to the staff phone (sipp on 127.0.0.1:5090), who hears
the caller; in night mode to voicemail, without ringing anyone. Real Asterisk, sipp, the
real app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from callkit import answer, loudest, wait_asterisk_clean, wait_call_ended
from conftest import REPO, AsteriskTestbed, RunningApp, run_secretary
from lineskit import AriEvents, in_voicemail

from testkit.local import SHORT_GREETING
from testkit.runner import place_call
from testkit.scenario import CallerLine
from testkit.staff import StaffPhone

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secretary_app(
    asterisk_testbed: AsteriskTestbed, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    """The secretary with the example persona switched to blind transfers."""
    personas = tmp_path_factory.mktemp("personas")
    text = (REPO / "config" / "personas" / "default.yaml").read_text(encoding="utf-8")
    assert "  mode: attended\n" in text
    (personas / "default.yaml").write_text(text.replace("  mode: attended\n", "  mode: blind\n"),
                                           encoding="utf-8")
    yield from run_secretary(tmp_path_factory, "secretary-blind",
                             {"paths": {"personas_dir": str(personas)}}, SHORT_GREETING)



@pytest.mark.parametrize("night", [False, True], ids=["day", "night"], indirect=True)
async def test_blind_transfer_by_day_reaches_the_staff_phone_and_at_night_voicemail(
    secretary_app: RunningApp, caller_audio: dict[str, Path], tmp_path: Path, night: bool
) -> None:
    async with AriEvents("lines-test") as ari, StaffPhone(
        tmp_path / "staff", "accept", ring_ms=1000, key_after_ms=20000
    ) as phone:
        result = await place_call(
            exten="100",
            utterances=[
                answer(caller_audio["ru_transfer"]),
                CallerLine(caller_audio["ru_hello_staff"], pause_before_ms=12000),  # staff answered
            ],
            workdir=tmp_path / "caller",
            hangup="caller",
            hangup_wait_ms=2000,
        )
        staff = await phone.result(timeout_s=5 if night else 30)
        voicemail = [e for e in ari.events if in_voicemail(e)]
    assert result.sipp_rc == 0, result.sipp_log
    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    secretary_app.calls_before = len(calls)
    call = calls[-1]
    assert call["ended_by"] == "transferred", call
    assert call["transferred_to"] == "accounting", call
    if night:
        # the dialplan read night mode after the app's Stasis and went to voicemail
        assert "INVITE" not in staff.log, staff.log[-2000:]
        assert voicemail, "night mode: the caller did not reach voicemail"
    else:
        assert not voicemail
        assert staff.heard_origin is not None, staff.log[-2000:]
        last = result.sent_packets[-1].time
        started = [p.time for p in result.sent_packets if p.time > last - 3]
        level = loudest(staff.heard_pcm, staff.heard_origin, started[0] + 0.3, last)
        assert level > -35, f"the caller's voice did not reach the staff phone ({level:.0f} dBFS)"
    channels, bridges = wait_asterisk_clean()
    assert channels == [] and bridges == []
