"""FallbackTts: moves on when an engine fails; after part of its audio, the next engine
says the text again from its start."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

import numpy as np
import pytest

from ari_app.errors import EngineUnavailable
from ari_app.tts import FallbackTts
from ari_app.tts.factory import RESTART_PAUSE_S


class FakeTts:
    """A fake engine that yields fixed chunks of silence-like PCM."""

    def __init__(self, name: str = "fake", sample_rate: int = 16000, chunks: int = 3) -> None:
        self.name = name
        self.sample_rate = sample_rate
        self.chunks = chunks
        self.calls: list[str] = []
        self.loaded = False

    async def load(self) -> None:
        self.loaded = True

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.calls.append(text)
        for i in range(self.chunks):
            yield np.full(self.sample_rate // 50, i + 1, dtype="<i2").tobytes()


class FakeFailingTts(FakeTts):
    """A fake engine that raises after `fail_after` chunks (0: before any audio)."""

    def __init__(self, name: str = "failing", fail_after: int = 0, **kwargs: int) -> None:
        super().__init__(name=name, **kwargs)
        self.fail_after = fail_after
        self.closed = False

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.calls.append(text)
        try:
            for _ in range(self.fail_after):
                yield b"\x01\x00" * 320
            raise RuntimeError(f"{self.name} broke")
        finally:
            self.closed = True


class FakeUnloadableTts(FakeTts):
    async def load(self) -> None:
        raise EngineUnavailable("voice not installed; apt-get install something")

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        await self.load()
        yield b""  # never reached


async def collect(tts: FallbackTts, text: str = "Hello there.") -> list[bytes]:
    return [chunk async for chunk in tts.synthesize(text)]


async def test_first_engine_speaks_when_healthy() -> None:
    first, second = FakeTts("first"), FakeTts("second")
    tts = FallbackTts([first, second])
    chunks = await collect(tts)
    assert len(chunks) == 3
    assert tts.last_engine is first
    assert second.calls == []
    assert tts.failures == []


async def test_moves_on_when_first_fails_before_audio() -> None:
    failing, backup = FakeFailingTts("broken", fail_after=0), FakeTts("backup")
    tts = FallbackTts([failing, backup])
    chunks = await collect(tts, "Добрый день.")
    assert len(chunks) == 3
    assert tts.last_engine is backup
    assert backup.calls == ["Добрый день."]
    assert failing.closed
    assert tts.failures == [("broken", "broken broke")]


async def test_moves_on_when_first_cannot_load() -> None:
    backup = FakeTts("backup")
    tts = FallbackTts([FakeUnloadableTts("unloadable"), backup])
    await tts.load()  # one engine loads: no error
    assert len(await collect(tts)) == 3
    assert tts.last_engine is backup
    assert "apt-get install" in tts.failures[0][1]


async def test_after_part_of_its_audio_the_next_engine_says_it_again_in_full() -> None:
    failing, backup = FakeFailingTts("broken", fail_after=2), FakeTts("backup")
    tts = FallbackTts([failing, backup])
    received = await collect(tts, "Hello.")
    fragment, pause, whole = received[:2], received[2], received[3:]
    assert fragment == [b"\x01\x00" * 320] * 2  # what the caller heard before it broke
    assert pause == bytes(len(pause)) and len(pause) == 2 * int(16000 * RESTART_PAUSE_S)
    assert len(whole) == 3 and all(any(chunk) for chunk in whole)
    assert backup.calls == ["Hello."]  # the whole text again, from its start
    assert failing.closed
    assert tts.last_engine is backup
    assert tts.failures == [("broken", "failed after audio: broken broke")]


class FakeBreaksMidwayTts(FakeTts):
    """Fails after its first chunk on a text with "break" in it."""

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        async for chunk in super().synthesize(text):
            yield chunk
            if "break" in text:
                raise RuntimeError(f"{self.name} broke")


async def test_the_next_request_starts_with_the_first_engine_again() -> None:
    flaky, backup = FakeBreaksMidwayTts("flaky"), FakeTts("backup")
    tts = FallbackTts([flaky, backup])
    await collect(tts, "One.")
    assert len(await collect(tts, "Two, break.")) == 1 + 1 + 3
    await collect(tts, "Three.")
    assert flaky.calls == ["One.", "Two, break.", "Three."]
    assert backup.calls == ["Two, break."]
    assert tts.last_engine is flaky


async def test_the_last_engine_failing_after_audio_raises_its_error() -> None:
    tts = FallbackTts([FakeFailingTts("a", fail_after=1), FakeFailingTts("b", fail_after=2)])
    received: list[bytes] = []
    with pytest.raises(RuntimeError, match="b broke"):
        async for chunk in tts.synthesize("Hello."):
            received.append(chunk)
    assert len(received) == 1 + 1 + 2  # a's fragment, the pause, b's fragment


async def test_all_engines_failing_raises_engine_unavailable() -> None:
    tts = FallbackTts([FakeFailingTts("a"), FakeFailingTts("b")])
    with pytest.raises(EngineUnavailable, match="a: a broke; b: b broke"):
        await collect(tts)
    with pytest.raises(EngineUnavailable):
        await FallbackTts([FakeUnloadableTts("x")]).load()


async def test_backup_at_another_rate_is_resampled_to_the_output_rate() -> None:
    failing = FakeFailingTts("broken", sample_rate=16000)
    backup = FakeTts("backup", sample_rate=8000, chunks=50)  # 1 s at 8 kHz
    tts = FallbackTts([failing, backup])
    assert tts.sample_rate == 16000
    pcm = b"".join(await collect(tts))
    assert len(pcm) % 2 == 0
    assert abs(len(pcm) // 2 - 16000) < 200  # about 1 s at 16 kHz
    assert tts.last_engine is backup


async def test_consumer_stopping_early_closes_the_engine() -> None:
    engine = FakeFailingTts("slow", fail_after=5)
    tts = FallbackTts([engine])
    gen = tts.synthesize("Hello.")
    assert isinstance(gen, AsyncGenerator)
    first = await anext(gen)
    assert first
    await gen.aclose()
    assert engine.closed


class FakeFlakyTts(FakeTts):
    """A fake engine that fails on any text with "fail" in it, after `meanwhile` has run (a
    second call's request, arriving while this one is failing)."""

    def __init__(self, name: str, meanwhile: Callable[[], Awaitable[None]] | None = None
                 ) -> None:
        super().__init__(name=name)
        self.meanwhile = meanwhile

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        if "fail" in text:
            if self.meanwhile is not None:
                await self.meanwhile()
            raise RuntimeError(f"{self.name} broke")
        async for chunk in super().synthesize(text):
            yield chunk


async def test_a_request_keeps_its_own_failures_while_another_call_speaks() -> None:
    """One FallbackTts serves every call: a request that another call's request overlaps
    must still see that all its engines failed."""
    spoken: list[list[bytes]] = []

    async def another_call_speaks() -> None:
        spoken.append(await collect(tts, "hello"))

    tts = FallbackTts([FakeFlakyTts("a"), FakeFlakyTts("b", meanwhile=another_call_speaks)])
    with pytest.raises(EngineUnavailable, match="a: a broke; b: b broke"):
        await collect(tts, "fail")
    assert spoken and spoken[0]  # the other call was answered by engine a
