"""A reply drafted at the caller's pause (call/draft.py): the mind is left as it was, the
drafted sentence is synthesised once and played from the draft, any other sentence goes to
the synthesiser, a model's answer is not drafted, and a dropped draft stops synthesising.
The mind and the synthesiser are fakes (named so)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ari_app.call.draft import ReplyDraft, first_sentence
from ari_app.mind.mind import Answer


class FakeMind:
    """Answers with a scripted text; every answer moves its state on by one."""

    def __init__(self, words: str | None = None) -> None:
        self.words = words
        self.state = 0
        self.started: list[str] = []  # model answers whose writing began

    def checkpoint(self) -> int:
        return self.state

    def restore(self, state: int) -> None:
        self.state = state

    def answer(self, caller_text: str) -> Answer:
        self.state += 1
        if self.words is not None:
            return Answer(self.words, "scripted")
        return Answer(self._write(caller_text), "model")

    async def _write(self, caller_text: str) -> AsyncIterator[str]:
        self.started.append(caller_text)
        yield "Sure."


class FakeVoice:
    """Yields two chunks per sentence; waits for `release` before the second when given
    one; fails on sentences in `fail_on`."""

    name = "fake"
    sample_rate = 8000

    def __init__(self, release: asyncio.Event | None = None,
                 fail_on: tuple[str, ...] = ()) -> None:
        self.release = release
        self.fail_on = fail_on
        self.asked: list[str] = []
        self.cancelled: list[str] = []

    async def load(self) -> None:
        return None

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.asked.append(text)
        if text in self.fail_on:
            raise RuntimeError("voice broke")
        try:
            yield f"{text}:1".encode()
            if self.release is not None:
                await self.release.wait()
            yield f"{text}:2".encode()
        except asyncio.CancelledError:
            self.cancelled.append(text)
            raise


async def play(voice: object, text: str) -> list[bytes]:
    return [chunk async for chunk in voice.synthesize(text)]  # type: ignore[attr-defined]


def test_first_sentence() -> None:
    assert first_sentence("Мы работаем с девяти. В субботу выходной.") == "Мы работаем с девяти."
    assert first_sentence("Hello") == "Hello"
    assert first_sentence("   ") is None


async def test_the_drafted_sentence_is_made_once_and_played_from_the_draft() -> None:
    mind = FakeMind("We open at nine. On Saturday we are closed.")
    voice = FakeVoice()
    draft = await ReplyDraft.of(mind, "When do you open?", voice)  # type: ignore[arg-type]
    assert draft is not None and draft.piece == "We open at nine."
    assert mind.state == 0  # asking changed nothing
    spoken = draft.voice()
    first = await play(spoken, "We open at nine.")
    second = await play(spoken, "On Saturday we are closed.")
    assert first == [b"We open at nine.:1", b"We open at nine.:2"]
    assert second == [b"On Saturday we are closed.:1", b"On Saturday we are closed.:2"]
    assert voice.asked == ["We open at nine.", "On Saturday we are closed."]


async def test_the_draft_plays_what_is_made_and_then_the_rest_as_it_comes() -> None:
    release = asyncio.Event()
    voice = FakeVoice(release)
    draft = await ReplyDraft.of(FakeMind("Hello."), "Hi", voice)  # type: ignore[arg-type]
    assert draft is not None
    got: list[bytes] = []

    async def consume() -> None:
        async for chunk in draft.voice().synthesize("Hello."):
            got.append(chunk)

    consumer = asyncio.create_task(consume())
    for _ in range(5):
        await asyncio.sleep(0)
    assert got == [b"Hello.:1"]  # the second chunk is not made yet
    release.set()
    await asyncio.wait_for(consumer, 1.0)
    assert got == [b"Hello.:1", b"Hello.:2"]


async def test_a_model_answer_is_not_drafted_nor_started() -> None:
    mind = FakeMind(None)
    voice = FakeVoice()
    assert await ReplyDraft.of(mind, "Tell me a story", voice) is None  # type: ignore[arg-type]
    assert mind.started == [] and voice.asked == [] and mind.state == 0


async def test_a_dropped_draft_stops_synthesising() -> None:
    voice = FakeVoice(asyncio.Event())  # never released
    draft = await ReplyDraft.of(FakeMind("Hello there."), "Hi", voice)  # type: ignore[arg-type]
    assert draft is not None
    for _ in range(5):
        await asyncio.sleep(0)
    await draft.drop()
    assert voice.cancelled == ["Hello there."]


async def test_a_draft_whose_synthesis_failed_fails_when_played() -> None:
    voice = FakeVoice(fail_on=("Hello.",))
    draft = await ReplyDraft.of(FakeMind("Hello."), "Hi", voice)  # type: ignore[arg-type]
    assert draft is not None
    with pytest.raises(RuntimeError, match="voice broke"):
        await play(draft.voice(), "Hello.")
