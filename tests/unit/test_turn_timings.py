"""A turn's typed figures and the flat record they are kept as, from loop times."""

from __future__ import annotations

import pytest

from ari_app.call.speaker import Spoken
from ari_app.mind.mind import MindFigures
from ari_app.turn.listener import BargeIn
from ari_app.turn.timings import CallerFigures, SpeechFigures, TurnTimings


def test_reply_timings_from_a_reply_cut_by_the_caller() -> None:
    jitter = [0.1] * 97 + [2.5, 0.3, 7.0]
    spoken = Spoken(said="Здравствуйте.", unsaid="Чем могу помочь?", interrupted=True,
                    started=10.0, first_audio=10.15, ended=12.0, first_chunk=10.12,
                    send_jitter_ms=jitter)
    t = SpeechFigures.of(spoken, BargeIn(onset=11.9, decided=11.95), reply_ready=9.9,
                         speech_end=9.2).as_record()
    assert t["tts_first_audio_ms"] == pytest.approx(250.0)
    assert t["tts_engine_ms"] == pytest.approx(120.0)
    assert t["v2v_ms"] == pytest.approx(950.0)
    assert t["send_jitter_p99_ms"] == 2.5 and t["send_jitter_max_ms"] == 7.0
    assert (t["send_gaps"], t["send_gaps_over_2ms"]) == (100.0, 2.0)
    assert t["bargein_detect_ms"] == pytest.approx(50.0)
    assert t["bargein_stop_ms"] == pytest.approx(100.0)
    assert t["interrupted"] == 1.0


def test_reply_timings_without_audio_or_jitter() -> None:
    spoken = Spoken(said="", unsaid="", interrupted=False, started=1.0, first_audio=None,
                    ended=1.0)
    assert SpeechFigures.of(spoken, None, speech_end=0.5).as_record() == {}


def test_a_turn_s_record_has_each_stage_and_only_the_flags_set() -> None:
    timings = TurnTimings(endpoint_ms=210.0, stt_ms=0.0, reply_ms=3.5, heard_by="guess",
                          mind=MindFigures(first_token_ms=120.0, filler=True),
                          transfer_failed="busy")
    record = timings.as_record()
    assert record == {"endpoint_ms": 210.0, "stt_ms": 0.0, "reply_ms": 3.5,
                      "stt_speculative": 1.0, "transfer_busy": 1.0,
                      "llm_first_token_ms": 120.0, "llm_filler": 1.0}
    assert TurnTimings(heard_by="stream", merged=True).as_record() == {
        "merged_turns": 1.0, "stt_streaming": 1.0}
    assert CallerFigures(1.5, 2.75).as_record() == {"audio_from_s": 1.5, "audio_to_s": 2.75}
    assert CallerFigures(dtmf=True).as_record() == {"dtmf": 1.0}
