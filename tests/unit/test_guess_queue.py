"""Guesses at a turn's words with a batch recogniser (`BatchTurnStream.guess`): Whisper cannot
be interrupted, so a guess asked while one runs waits for it; only the newest waits (an older
waiting one is dropped), a turn that ends elsewhere drops it, and other calls waiting for the
recogniser keep it from starting. The recogniser is a fake (named so) whose transcriptions
finish when the test lets them."""

from __future__ import annotations

import asyncio

import pytest

from ari_app.stt.base import Transcript
from ari_app.stt.turn_stream import Audio, BatchTurnStream, GuessDropped

RATE = 8000


class FakeGatedRecogniser:
    """Says the length of what it was given, in samples; each transcription waits until
    the test opens the gate. `pending` is what the real engines count: other calls'
    transcriptions waiting."""

    sample_rate = RATE

    def __init__(self) -> None:
        self.given: list[bytes] = []
        self.gate = asyncio.Event()
        self.pending = 0

    async def transcribe(self, pcm: bytes, language: str, *,
                         prompt: str | None = None) -> Transcript:
        self.given.append(pcm)
        await self.gate.wait()
        return Transcript(str(len(pcm) // 2), language, len(pcm) / 2 / RATE, 0.0)


def audio(seconds: float, start: float = 100.0) -> Audio:
    return Audio(bytes(2 * round(seconds * RATE)), (start, start + seconds))


def stream() -> tuple[BatchTurnStream, FakeGatedRecogniser]:
    stt = FakeGatedRecogniser()
    return BatchTurnStream(stt, "ru", RATE, "test"), stt  # type: ignore[arg-type]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_guess_asked_while_one_runs_waits_for_it() -> None:
    s, stt = stream()
    first = s.guess(audio(1.0))
    second = s.guess(audio(1.6))
    assert first is not None and second is not None
    await settle()
    assert [len(g) for g in stt.given] == [16000]  # one at a time
    stt.gate.set()
    assert (await first).text == "8000" and (await second).text == "12800"
    heard = await s.words(audio(1.6))
    assert heard.by == "guess" and heard.text == "12800"
    assert len(stt.given) == 2  # the words were the guess's, not a third transcription


async def test_only_the_newest_guess_waits() -> None:
    s, stt = stream()
    first = s.guess(audio(1.0))
    older = s.guess(audio(1.4))
    newest = s.guess(audio(1.8))
    assert first is not None and older is not None and newest is not None
    stt.gate.set()
    with pytest.raises(GuessDropped):
        await older
    assert (await newest).text == "14400"
    assert [len(g) // 2 for g in stt.given] == [8000, 14400]


async def test_a_turn_that_ends_elsewhere_drops_the_waiting_guess() -> None:
    """The caller went on after the second pause: the turn's words are of a longer cut,
    and the guess waiting for the first one is never made."""
    s, stt = stream()
    s.guess(audio(1.0))
    waiting = s.guess(audio(1.6))
    assert waiting is not None
    words = asyncio.ensure_future(s.words(audio(2.5)))
    await settle()
    stt.gate.set()
    heard = await words
    assert heard.by == "batch" and heard.text == "20000"
    with pytest.raises(GuessDropped):
        await waiting
    assert [len(g) // 2 for g in stt.given] == [8000, 20000]


async def test_other_calls_waiting_keep_a_waiting_guess_from_starting() -> None:
    """Another call's words came to the recogniser while our first guess ran: the guess
    that waited is not made (theirs go first), and the turn's words are transcribed when
    it ends."""
    s, stt = stream()
    s.guess(audio(1.0))
    waiting = s.guess(audio(1.6))
    assert waiting is not None
    stt.pending = 1
    stt.gate.set()
    with pytest.raises(GuessDropped):
        await waiting
    heard = await s.words(audio(1.6))
    assert heard.by == "batch" and heard.text == "12800"
    assert s.guess(audio(2.0)) is None  # nor is a new one while they wait


async def test_a_discarded_turn_drops_the_waiting_guess() -> None:
    s, stt = stream()
    s.guess(audio(1.0))
    waiting = s.guess(audio(1.6))
    assert waiting is not None
    await s.discard()
    stt.gate.set()
    with pytest.raises(GuessDropped):
        await waiting
    assert len(stt.given) == 1
