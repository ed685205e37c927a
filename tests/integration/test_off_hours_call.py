"""The off-hours greeting on real calls: the app's calendar is frozen at Saturday 22:00 in
Moscow (config frozen_time), so both lines greet with "we are closed now". Real Asterisk,
sipp, RHVoice/Piper and Whisper at the caller's end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from callkit import answer, dial, normalise, wait_call_ended
from conftest import AsteriskTestbed, RunningApp, run_secretary

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secretary_app(
    asterisk_testbed: AsteriskTestbed, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApp]:
    yield from run_secretary(
        tmp_path_factory, "secretary-night", {"frozen_time": "2026-11-28T22:00:00+03:00"}
    )


@pytest.mark.parametrize(
    ("exten", "language", "bye", "closed"),
    # stems: Whisper at the caller's end has written "we are close now" for Piper's "closed"
    [("100", "ru", "ru_bye", "закрыт"), ("101", "en", "en_bye", "close")],
)
def test_off_hours_greeting(
    secretary_app: RunningApp,
    caller_audio: dict[str, Path],
    transcribe: Any,
    tmp_path: Path,
    exten: str,
    language: str,
    bye: str,
    closed: str,
) -> None:
    result = dial(
        exten=exten,
        utterances=[answer(caller_audio[bye])],
        workdir=tmp_path,
        hangup="remote",
        hangup_wait_ms=10000,
    )
    assert result.sipp_rc == 0, result.sipp_log
    heard = normalise(transcribe(result.received_pcm, language))
    assert closed in heard, heard
    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    secretary_app.calls_before = len(calls)
    greeting = calls[-1]["turns"][0]["text"]
    assert closed in greeting.lower(), greeting
