"""The speaker on a token stream, with fakes for the TTS engine and the transport (unit
level: the real engines and the real call path are covered by the integration tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from ari_app.call.speaker import Speaker, Spoken


class FakeTts:
    name = "fake"
    sample_rate = 8000

    def __init__(self) -> None:
        self.spoken: list[str] = []

    async def load(self) -> None:
        pass

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.spoken.append(text)
        yield b"\x10\x00" * 800  # 100 ms of audio per piece


class FakeTransport:
    """A transport the speaker paces (as the websocket one): takes each frame at once."""

    sample_rate = 8000
    paced = False

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.frames: list[float] = []
        self.sending = asyncio.Event()
        self.far_end_flushes = 0

    async def write_frame(self, pcm: bytes) -> None:
        self.frames.append(self.loop.time())
        self.sending.set()

    def flush(self) -> int:
        return 0

    async def flush_far_end(self) -> None:
        self.far_end_flushes += 1

    async def drained(self) -> None:
        pass

    def take_send_jitter(self) -> list[float]:
        return []


async def slow_tokens(text: str, events: list[float], delay: float) -> AsyncIterator[str]:
    for word in text.split(" "):
        await asyncio.sleep(delay)
        events.append(asyncio.get_running_loop().time())
        yield word + " "


async def test_first_sentence_is_heard_before_the_reply_is_written() -> None:
    loop = asyncio.get_running_loop()
    transport = FakeTransport(loop)
    tts = FakeTts()
    speaker = Speaker(transport, loop, lambda frame, at: None)  # type: ignore[arg-type]
    token_times: list[float] = []
    text = "Здравствуйте, это Анна! Мы работаем с понедельника по пятницу. До свидания!"
    spoken = await speaker.say_tokens(slow_tokens(text, token_times, 0.05), tts)
    assert tts.spoken == ["Здравствуйте, это Анна!", "Мы работаем с понедельника по пятницу.",
                          "До свидания!"]
    assert transport.frames[0] < token_times[-1]  # audio started while tokens still came
    assert not spoken.interrupted and spoken.said == " ".join(tts.spoken)


async def interrupt_mid_stream(transport: FakeTransport) -> Spoken:
    """Speak a three-sentence token stream and interrupt it once the first frame is sent."""
    loop = asyncio.get_running_loop()
    speaker = Speaker(transport, loop, lambda frame, at: None)  # type: ignore[arg-type]
    text = "Первое предложение здесь. Второе предложение тоже. Третье уже не прозвучит."
    task = asyncio.create_task(speaker.say_tokens(slow_tokens(text, [], 0.05), FakeTts()))
    await transport.sending.wait()
    speaker.interrupt()
    return await task


async def test_stop_drops_the_unsaid_rest_of_a_stream() -> None:
    spoken = await interrupt_mid_stream(FakeTransport(asyncio.get_running_loop()))
    assert spoken.interrupted
    assert "Третье" not in spoken.said


class FakePacedTransport(FakeTransport):
    """A transport with its own sending clock (as RtpTransport(paced=True)): takes frames at
    once, and records drains and flushes."""

    paced = True

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.drains: list[float] = []
        self.flushes = 0

    async def drained(self) -> None:
        self.drains.append(self.loop.time())

    def flush(self) -> int:
        self.flushes += 1
        return 0

    def take_send_jitter(self) -> list[float]:
        return []


async def test_a_self_pacing_transport_is_fed_not_paced_and_drained_at_the_end() -> None:
    loop = asyncio.get_running_loop()
    transport = FakePacedTransport(loop)
    speaker = Speaker(transport, loop, lambda frame, at: None)  # type: ignore[arg-type]
    tts = FakeTts()
    spoken = await speaker.say(
        "Первое предложение здесь. Второе предложение тоже. Третье тоже прозвучит.", tts)
    assert len(tts.spoken) == 3
    assert len(transport.frames) >= 12  # 100 ms a piece, less the crossfades
    # the speaker's own 20 ms pacer would take 0.28 s; the transport paces instead
    assert transport.frames[-1] - transport.frames[0] < 0.1
    assert len(transport.drains) == 1 and transport.drains[0] >= transport.frames[-1]
    assert not spoken.interrupted and transport.flushes == 0


async def test_interrupting_a_self_pacing_transport_flushes_its_queue() -> None:
    transport = FakePacedTransport(asyncio.get_running_loop())
    spoken = await interrupt_mid_stream(transport)
    assert spoken.interrupted and transport.flushes >= 1 and not transport.drains


class FakeTtsFailingOnSecond(FakeTts):
    """Speaks the first piece, then raises on the second (an engine that dies mid-reply);
    with `after_audio`, the second piece's first chunk is yielded before it raises."""

    def __init__(self, *, after_audio: bool = False) -> None:
        super().__init__()
        self.after_audio = after_audio

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.spoken.append(text)
        if len(self.spoken) == 2:
            if self.after_audio:
                yield b"\x10\x00" * 400
            raise RuntimeError("the fake engine died")
        yield b"\x10\x00" * 800


async def test_a_synthesis_failure_counts_only_the_sentences_played_before_it() -> None:
    loop = asyncio.get_running_loop()
    transport = FakeTransport(loop)
    speaker = Speaker(transport, loop, lambda frame, at: None)  # type: ignore[arg-type]
    tts = FakeTtsFailingOnSecond()
    spoken = await speaker.say(
        "Первое предложение здесь. Второе не прозвучит. Третье тоже.", tts)
    assert tts.spoken == ["Первое предложение здесь.", "Второе не прозвучит."]
    assert spoken.said == "Первое предложение здесь."
    assert spoken.failed and not spoken.interrupted
    assert spoken.error is not None and "the fake engine died" in spoken.error
    assert "Второе" in spoken.unsaid and transport.frames  # the first sentence was sent


async def test_a_sentence_cut_by_a_synthesis_failure_is_not_said() -> None:
    loop = asyncio.get_running_loop()
    speaker = Speaker(FakeTransport(loop), loop, lambda frame, at: None)  # type: ignore[arg-type]
    text = "Первое предложение здесь. Второе оборвётся на середине. Третье не прозвучит."
    spoken = await speaker.say_tokens(slow_tokens(text, [], 0.0),
                                      FakeTtsFailingOnSecond(after_audio=True))
    assert spoken.failed and spoken.said == "Первое предложение здесь."


async def test_a_synthesis_failure_on_the_first_sentence_says_nothing() -> None:
    class FakeTtsFailingAtOnce(FakeTts):
        async def synthesize(self, text: str) -> AsyncIterator[bytes]:
            raise RuntimeError("no voice")
            yield b""  # an async generator, as the engines are

    loop = asyncio.get_running_loop()
    transport = FakeTransport(loop)
    speaker = Speaker(transport, loop, lambda frame, at: None)  # type: ignore[arg-type]
    spoken = await speaker.say("Здравствуйте.", FakeTtsFailingAtOnce())
    assert spoken.failed and spoken.said == "" and spoken.first_audio is None
    assert not transport.frames


async def test_a_reply_spoken_in_full_is_not_failed() -> None:
    loop = asyncio.get_running_loop()
    speaker = Speaker(FakeTransport(loop), loop, lambda frame, at: None)  # type: ignore[arg-type]
    spoken = await speaker.say("Первое. Второе.", FakeTts())
    assert not spoken.failed and spoken.error is None and spoken.said == "Первое. Второе."


async def test_interrupting_an_unpaced_transport_flushes_the_far_end() -> None:
    transport = FakeTransport(asyncio.get_running_loop())
    spoken = await interrupt_mid_stream(transport)
    assert spoken.interrupted and transport.far_end_flushes == 1
