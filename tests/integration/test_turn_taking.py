"""Turn taking on real calls: the caller interrupts the greeting, or pauses in the middle of
a phone number (test_silence.py: says nothing at all). Real Asterisk, sipp, Silero VAD,
Whisper, RHVoice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from callkit import answer, dial, next_call, normalise, wait_asterisk_clean

from ari_app.media.loudness import frame_dbfs
from testkit.runner import CallResult
from testkit.scenario import CallerLine

pytestmark = pytest.mark.integration

RATE = 8000


def call_100(workdir: Path, utterances: list[CallerLine]) -> CallResult:
    """A call to the secretary's test line; it hangs up when the caller has finished."""
    return dial(exten="100", utterances=utterances, workdir=workdir, hangup="remote",
                hangup_wait_ms=15000)


def level_between(pcm: bytes, origin: float, start: float, end: float) -> float:
    """Loudest 20 ms frame (dBFS) of what the caller heard between two capture times."""
    a = max(0, int((start - origin) * RATE) * 2)
    b = max(a, int((end - origin) * RATE) * 2)
    frames = [pcm[i : i + 320] for i in range(a, min(b, len(pcm)) - 319, 320)]
    return max((frame_dbfs(f) for f in frames), default=-120.0)


def test_caller_interrupts_the_greeting(
    secretary_app: Any, caller_audio: dict[str, Path], transcribe: Any, tmp_path: Path
) -> None:
    """The greeting (~4.5 s; its first 1.5 s protected) is cut when the caller speaks over it
    at 2.5 s; the question is heard and answered."""
    result = call_100(tmp_path, [
        CallerLine(caller_audio["ru_hours"], pause_before_ms=2500),
        answer(caller_audio["ru_bye"]),
    ])
    assert result.sipp_rc == 0, result.sipp_log
    origin = result.timeline_origin
    assert origin is not None
    question_start = result.sent_packets[0].time
    question_end = result.utterance_end_times[0]
    assert question_end is not None
    # before the caller spoke the greeting was playing; from 0.4 s after, the line is quiet
    assert level_between(result.received_pcm, origin, question_start - 1.0, question_start) > -30
    assert level_between(result.received_pcm, origin, question_start + 0.4, question_end) < -45
    heard = normalise(transcribe(result.received_pcm, "ru"))
    assert "понедельник" in heard or "девят" in heard, heard

    call = next_call(secretary_app)
    greeting = call["turns"][0]
    timings = json.loads(greeting["timings"])
    assert greeting["who"] == "secretary" and timings.get("interrupted") == 1.0, greeting
    assert 0 < timings["bargein_stop_ms"] < 400, timings
    caller = [t for t in call["turns"] if t["who"] == "caller"]
    assert "час" in normalise(caller[0]["text"]) or "работ" in normalise(caller[0]["text"])
    assert call["ended_by"] == "app_hangup"
    assert wait_asterisk_clean() == ([], [])


def test_pause_inside_a_phone_number_does_not_end_the_turn(
    secretary_app: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    """"... мой номер: восемь девятьсот шестнадцать" [2.2 s] "сто двадцать три, сорок пять,
    шестьдесят семь": one caller turn holding both halves of the number."""
    result = call_100(tmp_path, [
        answer(caller_audio["ru_number_1"]),
        CallerLine(caller_audio["ru_number_2"], pause_before_ms=2200),
        answer(caller_audio["ru_bye"]),
    ])
    assert result.sipp_rc == 0, result.sipp_log
    caller = [t["text"] for t in next_call(secretary_app)["turns"] if t["who"] == "caller"]
    # Whisper base writes the number as digits, not always right ("896 ... 234567"); the
    # first half alone has at most four digits, both halves together at least six
    first = normalise(caller[0])
    digits = sum(ch.isdigit() for ch in first)
    assert digits >= 6 or "шестьдесят" in first, caller
    assert len(caller) == 2, caller  # the whole number in one turn, then the goodbye


def test_caller_who_goes_on_after_a_pause_gets_one_answer(
    secretary_app: Any, caller_audio: dict[str, Path], transcribe: Any, tmp_path: Path
) -> None:
    """"Здравствуйте!" [0.7 s] "Подскажите, пожалуйста, какие у вас часы работы?": the pause
    is longer than end_silence_ms (0.6 s), so the turn ends and an answer to "Здравствуйте!"
    is prepared; the caller goes on before it can reach them. The two parts are joined (the
    answer is withdrawn if it had begun) and the whole question is answered, as one turn."""
    result = call_100(tmp_path, [
        answer(caller_audio["ru_hello"]),
        CallerLine(caller_audio["ru_hours_only"], pause_before_ms=700),
        answer(caller_audio["ru_bye"]),
    ])
    assert result.sipp_rc == 0, result.sipp_log
    turns = next_call(secretary_app)["turns"]
    caller = [normalise(t["text"]) for t in turns if t["who"] == "caller"]
    assert len(caller) == 2, turns  # the greeting and the question as one turn, the goodbye
    assert "здравств" in caller[0] and ("час" in caller[0] or "работ" in caller[0]), caller
    # the turn did end at the pause, and was joined with the rest: before its answer began
    # (the caller went on while it was transcribed) or by withdrawing that answer
    output = secretary_app.app.output
    assert "caller went on after 'Здравствуйте" in output or (
        "went on before hearing the reply to 'Здравствуйте" in output
    ), [line for line in output.splitlines() if "caller" in line]
    assert [t["who"] for t in turns[:3]] == ["secretary", "caller", "secretary"], turns
    heard = normalise(transcribe(result.received_pcm, "ru"))
    assert "понедельник" in heard or "девят" in heard, heard
    assert wait_asterisk_clean() == ([], [])


def test_dtmf_reaches_the_session_and_stops_the_greeting(
    secretary_app: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    """Key 5 (SIP INFO) at 2 s: the greeting stops; the question asked 2.5 s later is heard."""
    result = call_100(tmp_path, [
        CallerLine(caller_audio["ru_hours"], pause_before_ms=2000, dtmf="5",
                  dtmf_gap_ms=2500),
        answer(caller_audio["ru_bye"]),
    ])
    assert result.sipp_rc == 0, result.sipp_log
    assert result.timeline_origin is not None
    question_start = result.sent_packets[0].time
    # the greeting lasts ~4.5 s; after the key at ~2.2 s the line went quiet
    assert level_between(result.received_pcm, result.timeline_origin,
                         question_start - 2.0, question_start) < -45
    turns = next_call(secretary_app)["turns"]
    assert json.loads(turns[0]["timings"]).get("interrupted") == 1.0, turns[0]
    assert any(t["who"] == "caller" and t["text"] == "DTMF 5" for t in turns), turns
    assert "DTMF 5" in secretary_app.app.output
