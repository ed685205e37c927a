"""The fallback chain with scripted fake providers: hand-over, filler, timeouts, cleanup."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence

import pytest

from ari_app.llm.base import (
    Done,
    Event,
    Filler,
    LlmError,
    LlmUnavailable,
    Message,
    TextDelta,
    Tool,
    ToolCall,
)
from ari_app.llm.chain import FallbackChain, Link

HELLO = [Message("user", "Здравствуйте")]
FILLERS = {"ru": ("Одну секунду...", "Сейчас посмотрю..."), "en": ("One moment...",)}


class FakeProvider:
    """Plays a script: floats are pauses (s), str are text deltas, ToolCall passes through,
    an exception is raised; a Done ends the reply unless `finish` is False."""

    def __init__(self, name: str, script: Sequence[object], finish: bool = True) -> None:
        self._name = name
        self.script = script
        self.finish = finish
        self.calls = 0
        self.closed = 0  # generators whose cleanup ran
        self.asked: list[tuple[list[Message], int]] = []  # (messages, number of tools)
        self.yielded = 0  # events handed out

    @property
    def name(self) -> str:
        return self._name

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[Tool] = ()
    ) -> AsyncIterator[Event]:
        self.calls += 1
        self.asked.append((list(messages), len(tools)))
        try:
            for step in self.script:
                if isinstance(step, float):
                    await asyncio.sleep(step)
                elif isinstance(step, str):
                    self.yielded += 1
                    yield TextDelta(step)
                elif isinstance(step, ToolCall):
                    self.yielded += 1
                    yield step
                elif isinstance(step, BaseException):
                    raise step
            if self.finish:
                yield Done(finish_reason="stop")
        finally:
            self.closed += 1

    async def aclose(self) -> None:
        pass


def chain(*providers: FakeProvider, first: float = 0.3, total: float = 2.0,
          filler_after: float = 0.1) -> FallbackChain:
    links = [Link(p, first, total) for p in providers]
    return FallbackChain(links, FILLERS, filler_after, default_language="ru")


async def run(c: FallbackChain, language: str = "ru") -> list[tuple[float, Event]]:
    started = time.monotonic()
    return [(time.monotonic() - started, e) async for e in c.stream(HELLO, language=language)]


def texts(events: list[tuple[float, Event]]) -> str:
    return "".join(e.text for _, e in events if isinstance(e, TextDelta))


async def test_fast_provider_no_filler() -> None:
    fast = FakeProvider("fast", ["Добрый", " день."])
    events = await run(chain(fast))
    assert texts(events) == "Добрый день."
    assert not [e for _, e in events if isinstance(e, Filler)]
    done = events[-1][1]
    assert isinstance(done, Done) and done.provider == "fast"
    assert done.first_token_ms is not None and done.first_token_ms < 100
    assert [a.outcome for a in done.attempts] == ["ok"]


async def test_error_hands_over_without_waiting() -> None:
    broken = FakeProvider("broken", [LlmError("broken", "connection refused")])
    backup = FakeProvider("backup", ["Да."])
    events = await run(chain(broken, backup, filler_after=1.0))
    assert texts(events) == "Да."
    done = events[-1][1]
    assert isinstance(done, Done) and done.provider == "backup"
    assert [(a.provider, a.outcome) for a in done.attempts] == [("broken", "error"),
                                                               ("backup", "ok")]  # fmt: skip
    assert "connection refused" in done.attempts[0].error
    assert events[-1][0] < 0.5  # no first-token timeout was waited for


async def test_late_first_token_gets_one_filler_then_the_next_provider() -> None:
    hanging = FakeProvider("hanging", [30.0])
    slow_backup = FakeProvider("slow", [0.25, "Мы открыты."])
    events = await run(chain(hanging, slow_backup, first=0.3, filler_after=0.1))
    fillers = [(t, e) for t, e in events if isinstance(e, Filler)]
    assert len(fillers) == 1  # although both providers were late
    at, filler = fillers[0]
    assert filler.text == "Одну секунду..."
    assert 0.08 <= at < 0.25 and 80 <= filler.after_ms < 250
    assert events[0][1] is filler  # said before anything else
    assert texts(events) == "Мы открыты."
    done = events[-1][1]
    assert isinstance(done, Done)
    assert [a.outcome for a in done.attempts] == ["first_token_timeout", "ok"]
    assert done.first_token_ms is not None and 500 <= done.first_token_ms < 900
    assert hanging.closed == 1  # its stream was cancelled and cleaned up


async def test_filler_language_and_rotation() -> None:
    c = chain(FakeProvider("slow", [0.2, "ok"]), filler_after=0.05)
    first = [e for _, e in await run(c, "en") if isinstance(e, Filler)]
    second = [e for _, e in await run(c, "ru") if isinstance(e, Filler)]
    third = [e for _, e in await run(c, "de") if isinstance(e, Filler)]  # falls back to ru
    assert [f.text for f in first + second + third] == [
        "One moment...", "Сейчас посмотрю...", "Одну секунду..."
    ]


async def test_empty_reply_falls_back() -> None:
    events = await run(chain(FakeProvider("mute", []), FakeProvider("talker", ["Алло."])))
    done = events[-1][1]
    assert isinstance(done, Done) and done.provider == "talker"
    assert done.attempts[0].outcome == "empty"


async def test_tool_call_counts_as_the_first_token() -> None:
    call = ToolCall("c1", "end_call", {})
    events = await run(chain(FakeProvider("tools", [call]), FakeProvider("never", ["x"])))
    assert [e for _, e in events][:1] == [call]
    assert isinstance(events[-1][1], Done) and events[-1][1].provider == "tools"


async def test_failure_after_speaking_ends_the_reply_there() -> None:
    flaky = FakeProvider("flaky", ["Мы работаем", LlmError("flaky", "connection reset")])
    backup = FakeProvider("backup", ["Другой ответ."])
    events = await run(chain(flaky, backup))
    assert texts(events) == "Мы работаем"
    done = events[-1][1]
    assert isinstance(done, Done) and done.finish_reason == "error" and done.provider == "flaky"
    assert backup.calls == 0


async def test_total_timeout_after_speaking() -> None:
    dawdler = FakeProvider("dawdler", ["Сейчас", 5.0, "поздно"])
    events = await run(chain(dawdler, total=0.3))
    done = events[-1][1]
    assert texts(events) == "Сейчас"
    assert isinstance(done, Done) and done.finish_reason == "timeout"
    assert 0.25 < events[-1][0] < 0.6
    assert dawdler.closed == 1


async def test_all_fail_names_every_provider() -> None:
    c = chain(FakeProvider("a", [LlmError("a", "HTTP 401")]), FakeProvider("b", [5.0]),
              first=0.2)  # fmt: skip
    seen: list[Event] = []
    with pytest.raises(LlmUnavailable) as info:
        async for event in c.stream(HELLO):
            seen.append(event)
    assert "a: error llm provider a: HTTP 401" in str(info.value)
    assert "b: first_token_timeout" in str(info.value)
    assert [type(e) for e in seen] == [Filler]  # the caller was not left in silence


async def test_unexpected_exception_is_a_failure_not_a_crash() -> None:
    buggy = FakeProvider("buggy", [KeyError("choices")])
    events = await run(chain(buggy, FakeProvider("ok", ["Да."])))
    done = events[-1][1]
    assert isinstance(done, Done) and done.attempts[0].outcome == "error"
    assert "KeyError" in done.attempts[0].error


async def test_cancelled_turn_cleans_up_the_provider_stream() -> None:
    hanging = FakeProvider("hanging", [30.0])
    c = chain(hanging, first=10.0, filler_after=10.0)

    async def consume() -> None:
        async for _ in c.stream(HELLO):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    task.cancel()  # a barge-in or a hangup
    with pytest.raises(asyncio.CancelledError):
        await task
    assert hanging.closed == 1


async def test_consumer_stopping_early_closes_the_stream() -> None:
    talker = FakeProvider("talker", ["a", "b", 5.0, "c"])
    c = chain(talker)
    stream = c.stream(HELLO)
    assert isinstance(await anext(stream), TextDelta)
    await stream.aclose()  # type: ignore[attr-defined]
    assert talker.closed == 1


class FlappingProvider(FakeProvider):
    """Down on its odd-numbered requests (a refused connection), up on the others."""

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[Tool] = ()
    ) -> AsyncIterator[Event]:
        if self.calls % 2 == 0:
            self.calls += 1
            raise LlmError(self.name, "connection refused")
        async for event in super().stream(messages, tools):
            yield event


async def test_a_flapping_provider_is_asked_once_per_turn_and_again_after_failing() -> None:
    """No provider is marked dead: one that failed the last turn gets the next one first
    (a flapping server answers whenever it is up), and within a turn it is asked once, not
    retried in a loop: the next provider answers at once."""
    flappy = FlappingProvider("flappy", ["Да."])
    backup = FakeProvider("backup", ["Нет."])
    c = chain(flappy, backup, filler_after=1.0)
    answered_by = []
    for _ in range(4):
        events = await run(c)
        done = events[-1][1]
        assert isinstance(done, Done)
        assert events[-1][0] < 0.5  # no timeout waited for
        answered_by.append(done.provider)
    assert answered_by == ["backup", "flappy", "backup", "flappy"]
    assert flappy.calls == 4 and backup.calls == 2
