"""Which caller frames count as speech: a VAD that is unsure (a short clipped "Нет." on an
8 kHz line scores under 0.5 throughout) still makes a turn when the frames are as loud as
speech, but not when they are quiet, and never interrupts us on its own. The VAD here is a
fake (named so): it says a fixed probability for every frame with sound in it."""

from __future__ import annotations

from pathlib import Path

from test_lossless_turn import Call, silence, tone

from ari_app.turn.listener import BargeIn


class FakeUnsureVad:
    sample_rate = 8000

    def __init__(self, probability: float) -> None:
        self.probability = probability

    def speech_probability(self, frame: bytes) -> float:
        return self.probability if any(frame) else 0.0

    def reset(self) -> None:
        return None


async def test_an_unsure_but_loud_word_is_a_turn(tmp_path: Path) -> None:
    call = Call(tmp_path, vad=FakeUnsureVad(0.3))
    call.transport.play(silence(0.5), tone(0.3, -25.0), silence(1.0))
    utterance = await call.listener.next_utterance(3.0, since=call.clock.now)
    assert utterance is not None
    assert 0.25 <= utterance.speech_end - utterance.speech_start <= 0.35


async def test_an_unsure_quiet_sound_is_not_a_turn(tmp_path: Path) -> None:
    call = Call(tmp_path, vad=FakeUnsureVad(0.3))
    call.transport.play(silence(0.5), tone(0.3, -50.0), silence(1.0))
    assert await call.listener.next_utterance(2.0, since=call.clock.now) is None


async def test_an_unsure_word_does_not_interrupt_us(tmp_path: Path) -> None:
    call = Call(tmp_path, vad=FakeUnsureVad(0.3))
    barged: list[BargeIn] = []
    call.listener.stop_listening()
    call.listener.arm_barge_in(barged.append, not_before=0.0)
    call.transport.play(silence(0.2), tone(0.6, -25.0), silence(0.3))
    await call.settle()
    assert barged == []
    sure = Call(tmp_path / "sure", vad=FakeUnsureVad(0.9))
    sure.listener.stop_listening()
    sure.listener.arm_barge_in(barged.append, not_before=0.0)
    sure.transport.play(silence(0.2), tone(0.6, -25.0), silence(0.3))
    await sure.settle()
    assert len(barged) == 1


async def test_words_said_over_a_hold_cue_reach_a_streaming_recogniser_once(
    tmp_path: Path,
) -> None:
    # the hold cue is said while the turn is still listened to: a barge-in on it must not
    # give a streaming recogniser the frames it has already had one by one
    call = Call(tmp_path, vad=FakeUnsureVad(0.9))
    fed: list[bytes] = []
    call.listener.listening = True
    call.listener.on_turn_frame = fed.append
    barged: list[BargeIn] = []
    call.listener.arm_barge_in(barged.append, not_before=0.0)
    played = silence(0.2) + tone(0.6, -25.0) + silence(0.3)
    call.transport.play(played)
    await call.settle()
    assert len(barged) == 1
    assert b"".join(fed) == played
