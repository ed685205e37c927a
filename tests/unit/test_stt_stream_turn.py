"""StreamingTurn with a fake recogniser: frames reach it in order, and the final words wait
for every frame fed before them."""

from __future__ import annotations

import asyncio

from ari_app.stt.base import Transcript
from ari_app.stt.streaming import Partial
from ari_app.turn.streaming import StreamingTurn


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
    turn = StreamingTurn(engine, "ru")  # type: ignore[arg-type]
    for ch in "hello":
        turn.feed(ch.encode())
    assert (await turn.final()).text == "hello"
    turn.feed(b"x")
    await turn.discard()
    turn.feed(b"y")
    assert (await turn.final()).text == "y"
    await turn.close()
    assert engine.recognizer.closed
