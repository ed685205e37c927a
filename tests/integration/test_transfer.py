"""Attended transfer on real calls: the caller asks for the accounts department, the app
rings the testbed's staff phone (sipp as a UAS on 127.0.0.1:5090, reached through the
dialplan's secretary-staff context), announces the caller, and the staff member presses 1
(bridged to the caller) or 2 / is busy (the caller is back with the secretary, who offers
to take a message). Blind transfers: test_transfer_blind.py. Real Asterisk, sipp, Whisper
and RHVoice."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from callkit import answer, ari_get, loudest, normalise, wait_asterisk_clean, wait_call_ended

from testkit.local import SHORT_GREETING
from testkit.runner import place_call
from testkit.staff import StaffPhone

pytestmark = pytest.mark.integration
GREETING = SHORT_GREETING  # the callers answer it (conftest.secretary_app)
RATE = 8000


class BridgeWatcher:
    """ARI's bridges every 0.3 s while a call runs (in a thread)."""

    def __init__(self) -> None:
        self.snapshots: list[list[dict[str, Any]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.3):
            try:
                self.snapshots.append(ari_get("/bridges"))
            except Exception:
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


async def test_staff_accepts_with_1_and_talks_to_the_caller(
    secretary_app: Any, caller_audio: dict[str, Path], transcribe: Any, tmp_path: Path
) -> None:
    watcher = BridgeWatcher()
    async with StaffPhone(tmp_path / "staff", "accept", ring_ms=1000, key_after_ms=5000,
                          says=caller_audio["ru_staff_takes"]) as phone:
        result = await place_call(
            exten="100",
            utterances=[
                answer(caller_audio["ru_transfer"]),
                answer(caller_audio["ru_my_name"]),  # asked for it
                # after "connecting you", the ring-back and the staff member's "да, слушаю"
                answer(caller_audio["ru_hello_staff"], replies=2),
            ],
            workdir=tmp_path / "caller",
            hangup="caller",
            hangup_wait_ms=2000,
        )
        staff = await phone.result(timeout_s=30)
    assert result.sipp_rc == 0, result.sipp_log
    assert staff.key_sent_at_log, staff.log
    assert staff.got_bye, staff.log  # the caller hung up: the staff phone is released too
    # what the staff member heard first: who is calling and why, and which key to press
    assert staff.heard_origin is not None
    announcement = normalise(transcribe(staff.heard_pcm[: 10 * RATE * 2], "ru"))
    # "Вам звонит Алексей Смирнов. Абонент сказал: ..." (Whisper garbles some words of it)
    assert any(w in announcement for w in ("звонит", "алекс", "смирн", "смерн", "сказал")), (
        announcement
    )
    watcher.stop()
    # then the caller and the staff member were in one bridge, without the secretary's leg
    joined = [
        b for snapshot in watcher.snapshots for b in snapshot
        if b["id"].startswith("secretary-") and not b["id"].startswith("secretary-staffbridge")
    ]
    assert any(
        any(c.startswith("secretary-staff-") for c in b["channels"])
        and not any(c.startswith("secretary-media-") for c in b["channels"])
        and len(b["channels"]) == 2
        for b in joined
    ), watcher.snapshots[-3:]
    # and the caller's own voice reached the staff phone through that bridge
    name_end = result.utterance_end_times[1]
    assert name_end is not None
    last = [p.time for p in result.sent_packets if p.time > name_end + 1]
    assert last, "the caller's last utterance was not sent"
    level = loudest(staff.heard_pcm, staff.heard_origin, last[0] + 0.3, last[-1])
    assert level > -35, f"the caller's voice did not reach the staff phone ({level:.0f} dBFS)"

    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    secretary_app.calls_before = len(calls)
    call = calls[-1]
    assert call["ended_by"] == "transferred", call
    assert call["transferred_to"], call
    channels, bridges = wait_asterisk_clean()
    assert channels == [] and bridges == []


@pytest.mark.parametrize("behaviour", ["decline", "busy"])
async def test_staff_declines_or_is_busy_and_the_caller_is_offered_a_message(
    secretary_app: Any,
    caller_audio: dict[str, Path],
    transcribe: Any,
    tmp_path: Path,
    behaviour: str,
) -> None:
    async with StaffPhone(
        tmp_path / "staff",
        behaviour,
        ring_ms=1000,  # type: ignore[arg-type]
        key_after_ms=3000,
    ) as phone:
        result = await place_call(
            exten="100",
            utterances=[
                answer(caller_audio["ru_transfer"]),
                answer(caller_audio["ru_my_name"]),
                # after "connecting you", the ring-back, and the staff member's refusal
                answer(caller_audio["ru_bye"], replies=2),
            ],
            workdir=tmp_path / "caller",
            hangup="remote",
            hangup_wait_ms=15000,
        )
        staff = await phone.result(timeout_s=30)
    assert result.sipp_rc == 0, result.sipp_log
    if behaviour == "decline":
        assert staff.key_sent_at_log and staff.got_bye, staff.log  # the app hung up on it
    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    secretary_app.calls_before = len(calls)
    call = calls[-1]
    assert call["ended_by"] == "app_hangup", call
    assert not call["transferred_to"], call
    said = [t for t in call["turns"] if t["who"] == "secretary"]
    failed = [t for t in said if any(k.startswith("transfer_") for k in json.loads(t["timings"]))]
    assert failed, said
    expected = "transfer_declined" if behaviour == "decline" else "transfer_busy"
    assert expected in json.loads(failed[0]["timings"]), failed[0]
    # the caller's audio holds the ring-back: only its speech is transcribed
    heard = normalise(transcribe(result.received_pcm, "ru", vad=True))
    assert "сообщени" in heard, heard
    channels, bridges = wait_asterisk_clean()
    assert channels == [] and bridges == []

