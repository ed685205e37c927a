"""A streaming engine behind the turn interface (LiveTurnStream), with a fake recogniser:
frames reach it in order, the final words wait for every frame fed before them, and a turn
that went on is the words of its parts."""

from __future__ import annotations

import asyncio

from ari_app.stt.base import Transcript
from ari_app.stt.streaming import Partial
from ari_app.stt.turn_stream import Audio, LiveTurnStream


class FakeRecognizer:
    sample_rate = 8000

    def __init__(self) -> None:
        self.heard: list[bytes] = []
        self.closed = False

    async def accept(self, pcm: bytes) -> Partial | None:
        await asyncio.sleep(0.001)  # a recogniser takes time per frame
        self.heard.append(pcm)
        return Partial(f"{len(self.heard)} frames", False, 0.0, 0.0)

    async def finish(self) -> Transcript:
        text = "".join(f.decode() for f in self.heard)
        self.heard = []
        return Transcript(text, "ru", 0.0, 0.0)

    async def close(self) -> None:
        self.closed = True


class FakeStreamingStt:
    sample_rate = 8000

    def __init__(self) -> None:
        self.recognizer = FakeRecognizer()

    async def load(self) -> None:
        pass

    def open_stream(self, language: str) -> FakeRecognizer:
        return self.recognizer


async def test_final_words_include_every_frame_fed() -> None:
    engine = FakeStreamingStt()
    turn = LiveTurnStream(engine.open_stream("ru"), "test")
    for ch in "hello":
        turn.feed(ch.encode())
    assert (await turn.final()).text == "hello"
    turn.feed(b"x")
    await turn.discard()
    turn.feed(b"y")
    assert (await turn.final()).text == "y"
    await turn.close()
    assert engine.recognizer.closed


async def test_a_turn_that_went_on_is_the_words_of_both_parts() -> None:
    turn = LiveTurnStream(FakeStreamingStt().open_stream("ru"), "test")
    unused = Audio(b"", (0.0, 0.0))  # a streaming engine heard the frames as they came
    for ch in "first":
        turn.feed(ch.encode())
    first = await turn.words(unused)
    for ch in "rest":
        turn.feed(ch.encode())
    whole = await turn.extend(first, unused, unused)
    assert (first.text, whole.text, whole.by) == ("first", "first rest", "stream")
    await turn.close()
