"""The end of a turn judged at a pause: the listener ends the turn where the end-of-turn
model said the caller had finished (not after the full silence), never at a later pause
on an earlier verdict, and the turn's audio is still the recording's; the judge keeps one
guess in flight. The model, transport, clock and recogniser are fakes (named so)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_lossless_turn import (
    TAIL_S,
    Call,
    FakeClock,
    FakeRecogniser,
    assert_is_the_recording,
    silence,
    soft_word,
)

from ari_app.call.speaker import Spoken
from ari_app.stt.base import Transcript
from ari_app.stt.turn_stream import BatchTurnStream
from ari_app.turn.end_of_turn import TurnEndJudge
from ari_app.turn.endpointing import Utterance
from ari_app.turn.smart_turn import TurnEndGuess
from ari_app.turn.timings import PAUSE_WITHIN_TURN_S, withdrawn_unheard
from ari_app.turn.turn import RestWaits, Turn

RATE = 8000


class FakeTurnEndModel:
    """Says 'complete' with a scripted probability per call, `lag_s` of the fake clock
    after it was asked; records the audio heard."""

    def __init__(self, probabilities: list[float], clock: FakeClock | None = None,
                 lag_s: float = 0.0) -> None:
        self.probabilities = probabilities
        self.clock = clock
        self.lag_s = lag_s
        self.heard: list[bytes] = []

    async def predict(self, pcm: bytes, rate: int) -> TurnEndGuess:
        self.heard.append(pcm)
        if self.clock is not None:
            ready = self.clock.now + self.lag_s
            while self.clock.now < ready:  # noqa: ASYNC110 (a fake clock has no events)
                await asyncio.sleep(0.001)
        p = self.probabilities.pop(0)
        return TurnEndGuess(p, p > 0.5, self.lag_s)


def judge(model: FakeTurnEndModel, language: str = "ru") -> TurnEndJudge:
    return TurnEndJudge(model, RATE, 0.5, "test", language)  # type: ignore[arg-type]


JUDGE_S = 0.25  # turn.judge_after_ms: the pause the model hears


async def listen(call: Call, j: TurnEndJudge) -> Utterance:
    utterance = await call.listener.next_utterance(
        5.0, since=call.clock.now, on_judge=j.at_pause, finished=j.finished
    )
    assert utterance is not None
    return utterance


async def test_a_turn_judged_complete_ends_at_the_pause(tmp_path: Path) -> None:
    call = Call(tmp_path)
    model = FakeTurnEndModel([0.9])
    call.transport.play(silence(0.5), soft_word(1.0), silence(1.0))
    utterance = await listen(call, judge(model))
    waited = utterance.detected_at - utterance.speech_end
    assert JUDGE_S <= waited < 0.4, waited  # not the 0.6 s of end_silence_ms
    assert_is_the_recording(call, call.recording(), utterance, utterance.pcm)
    # the model heard the turn's audio and the rest of its pause (the turn keeps 150 ms)
    assert model.heard and model.heard[0][: len(utterance.pcm)] == utterance.pcm
    more_s = (len(model.heard[0]) - len(utterance.pcm)) / 2 / RATE
    assert more_s == pytest.approx(JUDGE_S - TAIL_S, abs=0.021), more_s


async def test_a_turn_judged_incomplete_waits_for_the_silence(tmp_path: Path) -> None:
    call = Call(tmp_path)
    call.transport.play(silence(0.5), soft_word(1.0), silence(1.0))
    utterance = await listen(call, judge(FakeTurnEndModel([0.2])))
    assert utterance.detected_at - utterance.speech_end >= 0.6


async def test_a_verdict_on_an_earlier_pause_does_not_end_a_later_one(tmp_path: Path) -> None:
    """"complete" came for the first pause only after the caller went on (the model took
    0.5 s): the turn runs to the second pause, which the model calls incomplete, and ends
    on the silence."""
    call = Call(tmp_path)
    model = FakeTurnEndModel([0.9, 0.1], call.clock, lag_s=0.5)
    j = judge(model)
    call.transport.play(silence(0.3), soft_word(1.0), 0.3, soft_word(1.0), silence(1.0))
    utterance = await listen(call, j)
    assert utterance.speech_end - utterance.speech_start > 2.0  # both parts
    assert utterance.detected_at - utterance.speech_end >= 0.6


async def waited_after_words(tmp_path: Path, words: str, language: str = "ru") -> float:
    """How long after the speech the turn ended, when the model calls the pause incomplete
    (0.2) and the words guessed there are `words`."""
    call = Call(tmp_path)
    j = judge(FakeTurnEndModel([0.2]), language)

    def at_pause(snapshot: Utterance) -> None:
        j.guessed(snapshot.speech_end, words_ready(words))

    call.transport.play(silence(0.5), soft_word(1.0), silence(1.0))
    utterance = await call.listener.next_utterance(
        5.0, since=call.clock.now, on_pause=at_pause, on_judge=j.at_pause,
        finished=j.finished)
    assert utterance is not None
    return utterance.detected_at - utterance.speech_end


async def test_a_whole_question_ends_the_turn_at_the_pause(tmp_path: Path) -> None:
    """The words guessed at the first pause ask a whole question: the turn ends there,
    before the model's longer pause and long before the full silence."""
    assert TAIL_S <= await waited_after_words(tmp_path, "Вы работаете в субботу?") < JUDGE_S


async def test_words_that_do_not_ask_leave_the_turn_to_the_silence(tmp_path: Path) -> None:
    assert await waited_after_words(tmp_path, "Скажите, а в") >= 0.6


@pytest.mark.parametrize(("words", "language"), [
    ("Спасибо, до свидания!", "ru"), ("Thank you. Goodbye.", "en")])
async def test_a_goodbye_ends_the_turn_at_the_pause(tmp_path: Path, words: str,
                                                    language: str) -> None:
    assert TAIL_S <= await waited_after_words(tmp_path, words, language) < JUDGE_S


async def test_a_bare_thanks_leaves_the_turn_to_the_silence(tmp_path: Path) -> None:
    """Thanks come before a question as often as before a goodbye."""
    assert await waited_after_words(tmp_path, "Спасибо большое.") >= 0.6


def test_a_question_guessed_at_an_earlier_pause_does_not_end_a_later_one() -> None:
    j = judge(FakeTurnEndModel([]))
    j.heard(2.0, "Вы работаете в субботу?")
    assert j.finished(2.0)
    j.heard(3.1, "Вы работаете в субботу? А в воскресенье")
    assert not j.finished(2.0) and not j.finished(3.1)


async def test_the_judge_keeps_one_guess_in_flight() -> None:
    clock = FakeClock()
    model = FakeTurnEndModel([0.9, 0.9], clock, lag_s=0.1)
    j = judge(model)
    first = Utterance(b"\x01\x00" * 800, 1.0, 2.0, 2.25, 0.7)
    second = Utterance(b"\x01\x00" * 900, 1.0, 2.1, 2.35, 0.7)
    j.at_pause(first)
    j.at_pause(second)  # the first is still being judged: skipped
    await asyncio.sleep(0)  # the guess has begun
    clock.now += 0.2
    await asyncio.sleep(0.01)
    assert len(model.heard) == 1
    assert j.finished(2.0) and not j.finished(2.1)
    await j.close()


async def test_a_turn_that_stops_mid_phrase_waits_for_the_rest(tmp_path: Path) -> None:
    """Judged complete at "Скажите, а в" [0.9 s] "субботу вы работаете?": the words
    cannot end there, so the turn waits and both parts are heard as one."""
    call = Call(tmp_path)
    stt = FakeRecogniser(["Скажите, а в", "Скажите, а в субботу вы работаете?",
                          "субботу вы работаете?"])
    stream = BatchTurnStream(stt, "ru", RATE, "test")  # type: ignore[arg-type]
    heard = Turn(stream, call.listener, RestWaits(3000, 1500), "test")
    call.transport.play(silence(0.3), soft_word(1.2), silence(0.4))
    first = await listen(call, judge(FakeTurnEndModel([0.9])))
    call.transport.play(0.5, soft_word(1.5), silence(0.8))
    transcript = await heard.hear(first)
    turn = heard.audio
    assert turn is not None
    assert "субботу" in transcript.text and turn.speech_start == first.speech_start
    assert_is_the_recording(call, call.recording(), turn, stt.given[1])


@pytest.mark.parametrize("greeting_ms", [600, 0])
async def test_a_bare_greeting_waits_the_silence_for_the_rest(tmp_path: Path,
                                                              greeting_ms: int) -> None:
    """"Здравствуйте!" [0.45 s] "подскажите, часы работы?": the model calls the greeting
    complete at the pause, but a bare greeting waits the silence rule (600 ms from the
    caller's last word), so the question is in the same turn; without the wait (0) the
    greeting alone would be answered over the caller."""
    call = Call(tmp_path)
    stt = FakeRecogniser(["Здравствуйте!", "Здравствуйте! Подскажите, часы работы?",
                          "подскажите, часы работы?"])
    stream = BatchTurnStream(stt, "ru", RATE, "test")  # type: ignore[arg-type]
    heard = Turn(stream, call.listener, RestWaits(3000, 1500, greeting_ms), "test")
    call.transport.play(silence(0.3), soft_word(1.0), silence(0.25), soft_word(1.5),
                        silence(0.8))
    first = await listen(call, judge(FakeTurnEndModel([0.9])))
    assert first.detected_at - first.speech_end < 0.4  # the model ended it at the pause
    transcript = await heard.hear(first)
    if greeting_ms:
        assert "часы" in transcript.text and heard.timings.merged
    else:
        assert transcript.text == "Здравствуйте!" and not heard.timings.merged


def test_a_caller_who_goes_on_soon_after_their_own_words_withdraws_the_reply() -> None:
    """A turn ended early; the reply began 0.5 s after the caller's last word, and they went
    on 0.9 s after it (0.4 s into our audio, past the 0.3 s rule): still their own turn."""
    spoken = Spoken(said="", unsaid="Здравствуйте! Слушаю вас.", interrupted=True,
                    started=10.3, first_audio=10.5, ended=10.95, barge_onset=10.9)
    assert withdrawn_unheard(spoken, speech_end=10.0)
    assert not withdrawn_unheard(spoken, speech_end=10.9 - PAUSE_WITHIN_TURN_S - 0.1)
    heard = Spoken(said="Здравствуйте!", unsaid="Слушаю вас.", interrupted=True,
                   started=10.3, first_audio=10.5, ended=11.6, barge_onset=11.5)
    assert not withdrawn_unheard(heard, speech_end=10.9)


def words_ready(text: str | None) -> asyncio.Future[Transcript]:
    """A guess at the words already in (None: one that failed)."""
    words: asyncio.Future[Transcript] = asyncio.get_running_loop().create_future()
    if text is None:
        words.set_exception(RuntimeError("the fake recogniser failed"))
    else:
        words.set_result(Transcript(text, "ru", 1.0, 0.1))
    return words


async def test_words_that_say_all_end_the_turn_without_the_model() -> None:
    """The model is asked after the words, and not at all when they already say the
    caller has finished (both at once slow each other on a small box)."""
    model = FakeTurnEndModel([0.9])
    j = judge(model)
    pause = Utterance(b"\x01\x00" * 800, 1.0, 2.0, 2.25, 0.7)
    j.at_pause(pause, words_ready("Вы работаете в субботу?"))
    await asyncio.sleep(0.01)
    assert j.finished(2.0) and model.heard == []
    await j.close()


@pytest.mark.parametrize("text", ["Скажите, а в", None])
async def test_the_model_is_asked_once_the_words_are_in(text: str | None) -> None:
    """Words that do not end the turn, or a guess that failed: the model judges."""
    model = FakeTurnEndModel([0.9])
    j = judge(model)
    pause = Utterance(b"\x01\x00" * 800, 1.0, 2.0, 2.25, 0.7)
    words: asyncio.Future[Transcript] = asyncio.get_running_loop().create_future()
    j.at_pause(pause, words)
    await asyncio.sleep(0.01)
    assert model.heard == [] and not j.finished(2.0)  # waits for the words
    ready = words_ready(text)
    if text is None:
        words.set_exception(ready.exception() or RuntimeError())
    else:
        words.set_result(ready.result())
    await asyncio.sleep(0.01)
    assert model.heard == [pause.pcm] and j.finished(2.0)
    await j.close()


async def test_words_that_come_after_the_call_closed_ask_nothing() -> None:
    model = FakeTurnEndModel([0.9])
    j = judge(model)
    words: asyncio.Future[Transcript] = asyncio.get_running_loop().create_future()
    j.at_pause(Utterance(b"\x01\x00" * 800, 1.0, 2.0, 2.25, 0.7), words)
    await j.close()
    words.set_result(Transcript("Скажите, а в", "ru", 1.0, 0.1))
    await asyncio.sleep(0.01)
    assert model.heard == []


async def test_the_model_waits_for_the_words_guessed_at_the_earlier_pause() -> None:
    """The words are guessed at 150 ms, the model asked at 250 ms of the same pause: it
    waits for those words, and hears the pause only once they do not end the turn."""
    model = FakeTurnEndModel([0.9])
    j = judge(model)
    words: asyncio.Future[Transcript] = asyncio.get_running_loop().create_future()
    j.guessed(2.0, words)
    pause = Utterance(b"\x01\x00" * 800, 1.0, 2.0, 2.25, 0.7)
    j.at_pause(pause)
    await asyncio.sleep(0.01)
    assert model.heard == [] and not j.finished(2.0)
    words.set_result(Transcript("Скажите, а в", "ru", 1.0, 0.1))
    await asyncio.sleep(0.01)
    assert model.heard == [pause.pcm] and j.finished(2.0)
    await j.close()


async def test_words_that_say_all_end_the_turn_before_the_models_pause() -> None:
    model = FakeTurnEndModel([0.1])
    j = judge(model)
    j.guessed(2.0, words_ready("Вы работаете в субботу?"))
    await asyncio.sleep(0.01)
    assert j.finished(2.0)  # the model has not been asked yet
    j.at_pause(Utterance(b"\x01\x00" * 800, 1.0, 2.0, 2.25, 0.7))
    await asyncio.sleep(0.01)
    assert model.heard == [] and j.finished(2.0)
    await j.close()


async def test_words_guessed_at_another_pause_do_not_hold_the_model() -> None:
    model = FakeTurnEndModel([0.9])
    j = judge(model)
    never: asyncio.Future[Transcript] = asyncio.get_running_loop().create_future()
    j.guessed(1.5, never)  # an earlier pause; the caller went on
    pause = Utterance(b"\x01\x00" * 800, 1.0, 2.0, 2.25, 0.7)
    j.at_pause(pause)
    await asyncio.sleep(0.01)
    assert model.heard == [pause.pcm] and j.finished(2.0)
    await j.close()


@pytest.mark.parametrize(("text", "wait_ms", "why"), [
    ("Мой номер восемь, девятьсот шестнадцать, 123", 3000, "ends mid number"),
    ("Я хотел бы записаться на", 1500, "ends mid phrase"),
    ("Здравствуйте!", 600, "only greets"),
    ("Какие у вас часы работы?", 0, ""),
])
def test_the_wait_for_the_rest_of_a_turn_says_why(text: str, wait_ms: int, why: str) -> None:
    """The log tells an admin which of the three waits a turn is in."""
    assert RestWaits(3000, 1500, 600).after(text) == (wait_ms, why)
