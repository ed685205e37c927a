"""Turns that run on: the wait for the rest of a phone number counts from the end of the
caller's speech (not from when the transcript came), a caller who goes on before hearing
our reply has it withdrawn and both parts transcribed as one, and the conversation's state
goes back to where it was. The listener and the recogniser here are fakes (named so)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from test_llm_chain import FakeProvider, chain

from ari_app.call.speaker import Spoken
from ari_app.mind.dialogue import Dialogue
from ari_app.mind.llm_dialogue import LlmDialogue
from ari_app.mind.persona import Personas
from ari_app.stt.base import Transcript
from ari_app.stt.turn_stream import BatchTurnStream, ends_with
from ari_app.turn.endpointing import EnergyEndpointer, Utterance
from ari_app.turn.tape import CallerTape
from ari_app.turn.timings import HEARD_AFTER_S, withdrawn_unheard
from ari_app.turn.turn import RestWaits, Turn

RATE = 8000
PERSONAS = Path(__file__).resolve().parents[2] / "config" / "personas"
TUESDAY_11 = dt.datetime.fromisoformat("2026-11-24T11:00:00+03:00")


class FakeListener:
    """Records how long the turn waits for more; the caller never goes on."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.last_voiced_at = 0.0
        self.waits: list[float] = []
        self.more: list[Utterance] = []
        self.tape = CallerTape(RATE)

    async def next_utterance(self, timeout_s: float, *, since: float | None = None,
                             on_pause: object = None) -> Utterance | None:
        self.waits.append(timeout_s)
        return self.more.pop(0) if self.more else None


class FakeStt:
    """Answers after `delay_s` with the next scripted text; keeps what it was given."""

    sample_rate = RATE

    def __init__(self, texts: list[str], delay_s: float = 0.0) -> None:
        self.texts = texts
        self.delay_s = delay_s
        self.heard: list[bytes] = []

    async def load(self) -> None:
        return None

    async def transcribe(
        self, pcm: bytes, language: str, *, prompt: str | None = None
    ) -> Transcript:
        self.heard.append(pcm)
        await asyncio.sleep(self.delay_s)
        return Transcript(self.texts.pop(0), language, len(pcm) / 2 / RATE, self.delay_s)


def utterance(tape: CallerTape, seconds: float, end: float) -> Utterance:
    """`seconds` of speech ending at `end`, put on the call's tape frame by frame."""
    start = end - seconds
    for i in range(round(seconds / 0.02)):
        tape.append(b"\x10\x00" * 160, start + i * 0.02)
    return Utterance(tape.cut(start, end + 0.25), start, end, end + 0.6, start, end + 0.25)


def new_turn(stt: FakeStt, listener: FakeListener, digit_wait_ms: int = 3000,
             continues: Turn | None = None) -> Turn:
    stream = BatchTurnStream(stt, "ru", RATE, "test")
    return Turn(stream, listener, RestWaits(digit_wait_ms), "test",  # type: ignore[arg-type]
                continues=continues)


@pytest.mark.parametrize("stt_delay_s", [0.0, 0.4])
async def test_the_wait_for_the_rest_of_a_number_counts_from_the_speech_end(
    stt_delay_s: float,
) -> None:
    listener = FakeListener()
    stt = FakeStt(["мой номер восемь девятьсот шестнадцать"], stt_delay_s)
    turn = utterance(listener.tape, 2.0, end=listener.loop.time() - 0.6)  # stopped 0.6 s ago
    await new_turn(stt, listener).hear(turn)
    # 3 s from the speech end, whatever the recogniser took: 2.4 s left, less its time
    assert listener.waits == [pytest.approx(2.4 - stt_delay_s, abs=0.05)]


async def test_a_number_answered_later_than_the_wait_does_not_wait_at_all() -> None:
    listener = FakeListener()
    stt = FakeStt(["восемь девятьсот шестнадцать"])
    turn = utterance(listener.tape, 2.0, end=listener.loop.time() - 4.0)
    transcript = await new_turn(stt, listener).hear(turn)
    assert listener.waits == [0.0] and transcript.text.endswith("шестнадцать")


async def test_the_rest_of_a_number_joins_the_turn() -> None:
    listener = FakeListener()
    now = listener.loop.time()
    first = utterance(listener.tape, 2.0, end=now - 0.6)
    # the rest began 1.1 s after the first part ended
    listener.more = [utterance(listener.tape, 1.5, end=now + 2.0)]
    stt = FakeStt(["номер восемь девятьсот", "номер восемь девятьсот сто двадцать три",
                   "сто двадцать три"])
    turn = new_turn(stt, listener)
    transcript = await turn.hear(first)
    joined = turn.audio
    assert transcript.text == "номер восемь девятьсот сто двадцать три"
    assert joined is not None and joined.speech_start == first.speech_start
    assert joined.speech_end == now + 2.0
    # both parts and the 1.1 s between them, transcribed as one; then the rest alone
    assert abs(len(stt.heard[1]) - int((2.0 + 1.1 + 1.5) * RATE) * 2) <= 2
    assert stt.heard[1].endswith(stt.heard[2]) and len(stt.heard[2]) < len(stt.heard[1])
    assert turn.timings.merged and turn.timings.heard_by == "batch"


async def test_a_whole_that_leaves_out_the_rest_is_replaced_by_both_parts() -> None:
    """Whisper stopped at the pause and wrote only the first half of the number: the turn
    is the first part's words and the rest's."""
    listener = FakeListener()
    now = listener.loop.time()
    first = utterance(listener.tape, 2.0, end=now - 0.6)
    listener.more = [utterance(listener.tape, 1.5, end=now + 2.0)]
    stt = FakeStt(["Мой номер 896.", "Мой номер 896.", "123 45 67."])
    transcript = await new_turn(stt, listener).hear(first)
    assert transcript.text == "Мой номер 896. 123 45 67."


async def test_a_whole_that_went_on_past_the_first_part_is_kept() -> None:
    """The whole goes on past the first part ("... 0, 0, 4, 7,"), and the rest heard alone
    came out wrong (words for digits, as a real call had it): the whole stands."""
    listener = FakeListener()
    now = listener.loop.time()
    first = utterance(listener.tape, 2.0, end=now - 0.6)
    listener.more = [utterance(listener.tape, 1.5, end=now + 2.0)]
    stt = FakeStt(["8, 9, 2, 6, 2, 0, 0.", "8, 9, 2, 6, 2, 0, 0, 4, 7, 1, 8.",
                   "Чутыря, синг, один, восемь."])
    transcript = await new_turn(stt, listener).hear(first)
    assert transcript.text == "8, 9, 2, 6, 2, 0, 0, 4, 7, 1, 8."


@pytest.mark.parametrize(("whole", "rest", "kept"), [
    ("Мой номер 816. 123.45.67.", "123, 45, 67.", True),
    ("Мой номер 8161234567", "сто двадцать три 45 67", True),
    ("Мой номер 896.", "123 45 67.", False),
    ("Скажите, а в субботу вы работаете?", "субботу вы работаете?", True),
    ("Скажите, а в.", "субботу вы работаете?", False),
    ("Здравствуйте.", "", True),
])
def test_whether_the_whole_ends_with_the_rest(whole: str, rest: str, kept: bool) -> None:
    assert ends_with(whole, rest) is kept


async def held_hello(ended_ago_s: float) -> tuple[FakeStt, Turn, Utterance, float]:
    """A 1 s "Здравствуйте!" that ended `ended_ago_s` ago, heard and withdrawn; the
    recogniser's next answers are the whole question, then its rest alone. Returns the
    turn that continues it."""
    listener = FakeListener()
    now = listener.loop.time()
    stt = FakeStt(["Здравствуйте!", "Здравствуйте! Подскажите часы работы.",
                   "Подскажите часы работы."])
    first = new_turn(stt, listener)
    hello = utterance(listener.tape, 1.0, end=now - ended_ago_s)
    await first.hear(hello)
    first.withdraw([3, 4])
    return stt, new_turn(stt, listener, continues=first), hello, now


async def test_a_held_turn_is_transcribed_with_the_next_one() -> None:
    stt, t, hello, now = await held_hello(2.0)
    assert t.replaces == [3, 4]
    rest = utterance(t.listener.tape, 2.0, end=now)  # began just as the held turn ended: no gap
    transcript = await t.hear(rest)
    assert transcript.text == "Здравствуйте! Подскажите часы работы."
    assert len(stt.heard[1]) == len(hello.pcm) + len(rest.pcm)  # the whole, as one cut
    assert stt.heard[2] == rest.pcm  # then the rest alone, to check the whole ends with it
    assert t.audio is not None and t.audio.speech_start == hello.speech_start
    assert t.timings.merged


async def test_a_held_turn_with_no_more_speech_is_answered_as_it_was() -> None:
    stt, t, hello, _ = await held_hello(2.0)
    transcript = await t.hear(None)
    assert transcript.text == "Здравствуйте!" and t.audio is hello
    assert len(stt.heard) == 1 and not t.timings.merged


async def test_a_caller_heard_speaking_again_is_waited_for_briefly() -> None:
    listener = FakeListener()
    turn = utterance(listener.tape, 1.0, end=listener.loop.time() - 0.6)
    listener.last_voiced_at = turn.detected_at + 0.1
    await new_turn(FakeStt(["Здравствуйте"]), listener).hear(turn)
    assert listener.waits == [0.5]


def spoken(*, said: str = "", interrupted: bool = True, first_audio: float | None = 10.0,
           onset: float | None = 10.1) -> Spoken:
    return Spoken(said=said, unsaid="Здравствуйте, компания Ромашка.", interrupted=interrupted,
                  started=9.8, first_audio=first_audio, ended=10.3, barge_onset=onset)


def test_only_speech_that_began_before_the_reply_could_be_heard_withdraws_it() -> None:
    assert withdrawn_unheard(spoken())
    assert withdrawn_unheard(spoken(first_audio=None))  # stopped before any audio
    assert not withdrawn_unheard(spoken(onset=10.0 + HEARD_AFTER_S + 0.05))  # an answer
    assert not withdrawn_unheard(spoken(onset=None))  # a key press, not speech
    assert not withdrawn_unheard(spoken(said="Здравствуйте."))  # a sentence was heard
    assert not withdrawn_unheard(spoken(interrupted=False))


def test_endpointer_says_when_a_voice_has_begun() -> None:
    e = EnergyEndpointer(RATE, end_silence_s=0.6, min_speech_s=0.2)
    frame, quiet = b"\xff\x3f" * 160, b"\x00\x00" * 160
    assert not e.heard
    e.push(frame, 1.0, voiced=True)
    assert e.heard and not e.in_speech
    e.push(quiet, 1.5, voiced=False)
    e.push(quiet, 1.7, voiced=False)  # 0.7 s of quiet after a 20 ms voice: a click
    assert not e.heard


def rules() -> Dialogue:
    return Dialogue(Personas(PERSONAS)("default"), "ru", caller_id="+79161234567",
                    now=lambda: TUESDAY_11)


def test_a_withdrawn_reply_leaves_the_rules_where_they_were() -> None:
    d = rules()
    d.reply("Я хочу оставить сообщение")  # the form asks for the caller's name
    before = d.checkpoint()
    asked_next = d.reply("Меня зовут Пётр Сидоров").text
    d.restore(before)
    assert d.reply("Меня зовут Пётр Сидоров").text == asked_next  # the same question again
    d.restore(before)
    d.restore(d.checkpoint())
    fresh = rules()
    assert not fresh.mid_task
    start = fresh.checkpoint()
    fresh.reply("Я хочу оставить сообщение")
    assert fresh.mid_task
    fresh.restore(start)
    assert not fresh.mid_task and fresh.history == []


async def test_a_withdrawn_model_reply_leaves_no_trace_in_its_history() -> None:
    m = LlmDialogue(rules(), chain(FakeProvider("fake", ["Доставка ", "бесплатная."]),
                                   filler_after=5.0))
    m.greeting()
    before = m.checkpoint()
    turn = m.turn("Сколько стоит доставка?")
    assert "".join([piece async for piece in turn.pieces]) == "Доставка бесплатная."
    assert len(m.history) == 3
    m.restore(before)
    assert [msg.role for msg in m.history] == ["assistant"]


async def test_a_pause_after_a_held_turn_is_guessed_on_both_parts() -> None:
    stt, t, _, now = await held_hello(2.5)
    rest = utterance(t.listener.tape, 2.0, end=now)
    t.at_pause(rest)  # the pause after the rest: a guess on the whole turn starts
    await asyncio.sleep(0)
    transcript = await t.hear(rest)
    assert transcript.text == "Здравствуйте! Подскажите часы работы."
    assert t.timings.merged and t.timings.heard_by == "guess"
    assert t.timings.as_record().keys() >= {"merged_turns", "stt_speculative"}
    # the guess heard both parts and the pause (1 s, 0.5 s pause, 2 s); then the rest alone
    assert abs(len(stt.heard[1]) - int(3.5 * RATE) * 2) <= 2
    assert len(stt.heard) == 3 and stt.heard[2] == rest.pcm
