"""Real human speech on real calls (tests/data/human_speech: the Asterisk announcers'
recordings from Debian, 8 kHz): a caller who only says hello is greeted back, one who only
says goodbye gets the goodbye and the call ends, a request with a pause in it is one turn,
and a number dictated in groups with pauses of up to 2.5 s is stored digit for digit in a
message. Real Asterisk, sipp, Silero VAD, Whisper, RHVoice/Piper, SQLite."""

from __future__ import annotations

import json
import re
import sqlite3
import wave
from pathlib import Path
from typing import Any

import pytest
from callkit import answer, dial, loudest, next_call, normalise, wait_asterisk_clean
from conftest import RunningApp

from ari_app.media.loudness import frame_dbfs
from testkit.local import SHORT_GREETING
from testkit.runner import CallResult
from testkit.scenario import CallerLine

pytestmark = pytest.mark.integration
GREETING = SHORT_GREETING  # the callers answer it (conftest.secretary_app)

LINES = {"ru": "100", "en": "101"}
RATE = 8000


def call(lang: str, workdir: Path, utterances: list[CallerLine], timeout_s: float = 120
         ) -> CallResult:
    return dial(exten=LINES[lang], utterances=utterances, workdir=workdir, hangup="remote",
                hangup_wait_ms=15000, timeout_s=timeout_s)


def replies_to(output: str, said: str) -> list[str]:
    """The intents the app's log gives for caller turns whose text holds `said`."""
    return [intent for text, intent in re.findall(r"caller said '(.*?)' -> (\w+)", output)
            if said in normalise(text)]


@pytest.mark.parametrize(("lang", "hello", "stem"), [
    ("ru", "ru_hello", "здравств"), ("en", "en_hello", "hello"),
])
def test_a_caller_who_only_says_hello_is_greeted_back_and_goodbye_ends_the_call(
    secretary_app: RunningApp, human_speech: dict[str, Any], tmp_path: Path,
    lang: str, hello: str, stem: str,
) -> None:
    result = call(lang, tmp_path, [
        answer(human_speech[hello].ulaw),
        answer(human_speech[f"{lang}_goodbye"].ulaw),
    ])
    assert result.sipp_rc == 0, result.sipp_log
    record = next_call(secretary_app)
    caller = [normalise(t["text"]) for t in record["turns"] if t["who"] == "caller"]
    assert len(caller) == 2, record["turns"]
    assert stem in caller[0], caller
    assert "greeting" in replies_to(secretary_app.app.output, caller[0]), caller
    # the record says where the turn's audio lies in the recording: the whole word, with a
    # quiet pre-roll before it (the onset is inside the turn, not cut)
    hello_turn = next(t for t in record["turns"] if t["who"] == "caller")
    span = json.loads(hello_turn["timings"])
    with wave.open(record["caller_wav"], "rb") as w:
        recording = w.readframes(w.getnframes())
    audio = recording[2 * round(span["audio_from_s"] * RATE) : 2 * round(span["audio_to_s"] * RATE)]
    assert len(audio) >= 2 * RATE * human_speech[hello].duration_s, span
    assert frame_dbfs(audio[: 2 * RATE // 10]) < -40, "the turn starts inside the word"
    assert loudest(audio, 0.0, 0.0, len(audio) / 2 / RATE) > -30
    # the goodbye was understood: the secretary said goodbye and hung up (the caller's sipp
    # waited 15 s for that, so a call left open would have ended by the caller instead)
    assert record["ended_by"] == "app_hangup", record
    assert result.hung_up_by == "remote", result.hung_up_by
    assert wait_asterisk_clean() == ([], [])


@pytest.mark.parametrize(("clip", "first", "second"), [
    ("ru_hello_folder", "здравств", "директор"),
    ("en_hello_folder", "hello", "folder"),
])
def test_a_request_with_a_pause_in_it_is_one_turn(
    secretary_app: RunningApp, human_speech: dict[str, Any], tmp_path: Path,
    clip: str, first: str, second: str,
) -> None:
    """"Здравствуйте!" [0.8 s] "В какой директории сохранить сообщение?": the pause is
    longer than the end of turn; both parts still make one turn, answered once."""
    lang = clip[:2]
    result = call(lang, tmp_path, [
        answer(human_speech[clip].ulaw),
        answer(human_speech[f"{lang}_goodbye"].ulaw),
    ])
    assert result.sipp_rc == 0, result.sipp_log
    record = next_call(secretary_app)
    caller = [normalise(t["text"]) for t in record["turns"] if t["who"] == "caller"]
    assert any(first in text and second in text for text in caller), caller
    assert not any(first in text and second not in text for text in caller), caller
    assert record["ended_by"] == "app_hangup", record


def test_a_number_dictated_in_groups_with_pauses_is_stored_digit_for_digit(
    secretary_app: RunningApp, human_speech: dict[str, Any], caller_audio: dict[str, Path],
    tmp_path: Path,
) -> None:
    """"Восемь, девять, два, шесть... два, ноль, ноль... четыре, семь... один, восемь"
    (pauses of 2.5, 1.0 and 1.8 s) in answer to "what number should we call you back on?":
    the message keeps 89262004718. (Digits one by one: numbers like "двадцать восемь"
    spliced from two recordings sound like two numbers, and Whisper writes "20 8".)
    The caller hangs up while the number is read back: the message is kept unfinished,
    with the name and the number (the whole form, confirmed, is test_mind_calls')."""
    number = human_speech["ru_groups_6"]
    assert number.digits == "89262004718"
    assert max(p.pause_after_ms for p in number.parts) == 2500
    result = dial(exten=LINES["ru"], workdir=tmp_path, utterances=[
        answer(caller_audio["ru_leave_message"]),
        answer(caller_audio["ru_my_name"]),
        answer(number.ulaw),
    ], hangup="caller", hangup_wait_ms=8000, timeout_s=120)
    assert result.sipp_rc == 0, result.sipp_log
    record = next_call(secretary_app)
    assert record["ended_by"] == "caller_hangup", record
    with sqlite3.connect(secretary_app.db) as con:
        rows = con.execute("SELECT callback_number, confirmed FROM messages WHERE call_id = ?",
                           (record["call_id"],)).fetchall()
    # kept marked as not confirmed: the caller hung up while it was read back
    assert rows == [(number.digits, 0)], (rows, record["turns"])
