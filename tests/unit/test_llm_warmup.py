"""Warming a model server's prompt cache (ari_app/llm/warmup.py) with fake providers: each
records what it was asked and how far its stream was read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from ari_app.llm.base import Done, Event, LlmError, Message, TextDelta, Tool
from ari_app.llm.chain import FallbackChain, Link
from ari_app.llm.config import ProviderConfig
from ari_app.llm.tools import SECRETARY_TOOLS
from ari_app.llm.warmup import warm_up, warm_up_chain

PROMPT = [Message("system", "You are Anna."), Message("user", "...")]


class FakeProvider:
    """Streams `events` (after `delay_s`), or raises `error`; counts what was pulled."""

    def __init__(self, name: str, *, error: Exception | None = None, delay_s: float = 0.0,
                 events: int = 5) -> None:
        self._name = name
        self.error = error
        self.delay_s = delay_s
        self.events = events
        self.asked: list[tuple[list[Message], int]] = []
        self.pulled = 0
        self.closed_early = False

    @property
    def name(self) -> str:
        return self._name

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[Tool] = ()
    ) -> AsyncIterator[Event]:
        self.asked.append((list(messages), len(tools)))
        await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        try:
            for i in range(self.events):
                self.pulled += 1
                yield TextDelta(f"word{i} ")
            yield Done("stop")
        except GeneratorExit:
            self.closed_early = True
            raise

    async def aclose(self) -> None:
        pass


def chain(*links: Link) -> FallbackChain:
    return FallbackChain(links, {"en": ("One moment",)}, 0.7, "en")


async def test_warm_up_stops_at_the_first_event() -> None:
    provider = FakeProvider("local")
    took = await warm_up(provider, PROMPT, SECRETARY_TOOLS, timeout_s=5)
    assert took >= 0
    assert provider.asked == [(PROMPT, len(SECRETARY_TOOLS))]
    assert provider.pulled == 1 and provider.closed_early


async def test_warm_up_times_out() -> None:
    with pytest.raises(TimeoutError):
        await warm_up(FakeProvider("slow", delay_s=1.0), PROMPT, (), timeout_s=0.05)


async def test_the_chain_warms_only_its_marked_providers_and_survives_failures() -> None:
    local = FakeProvider("local")
    broken = FakeProvider("broken", error=LlmError("broken", "connection refused"))
    cloud = FakeProvider("cloud")
    outcome = await warm_up_chain(
        chain(Link(broken, 1, 2, warm_up=True), Link(local, 1, 2, warm_up=True),
              Link(cloud, 1, 2)),
        [("default:ru", PROMPT), ("default:en", PROMPT)],
        SECRETARY_TOOLS,
    )  # fmt: skip
    assert cloud.asked == []  # not marked: a cloud provider is never sent a warm-up
    assert len(local.asked) == 2
    assert isinstance(outcome["local/default:ru"], float)
    assert isinstance(outcome["local/default:en"], float)
    assert str(outcome["broken/default:ru"]).startswith("failed:")
    assert set(outcome) == {"local/default:ru", "local/default:en", "broken/default:ru",
                            "broken/default:en"}  # fmt: skip


@pytest.mark.parametrize(
    ("base_url", "explicit", "expected"),
    [
        ("http://127.0.0.1:8081/v1", None, True),
        ("http://localhost:8000/v1", None, True),
        ("http://[::1]:8000/v1", None, True),
        (None, None, False),  # api.openai.com
        ("https://api.deepseek.com/v1", None, False),
        ("https://api.deepseek.com/v1", True, True),
        ("http://127.0.0.1:8081/v1", False, False),
    ],
)
def test_which_providers_warm_up(base_url: str | None, explicit: bool | None,
                                 expected: bool) -> None:
    config = ProviderConfig(kind="openai", model="m", base_url=base_url, warm_up=explicit)
    assert config.warms_up is expected
