"""Warming a model server's prompt cache (ari_app/llm/warmup.py) with fake providers (the
scripted FakeProvider of test_llm_chain: it records what it was asked and how far its stream
was read)."""

from __future__ import annotations

import pytest
from test_llm_chain import FakeProvider

from ari_app.llm.base import LlmError, Message
from ari_app.llm.chain import FallbackChain, Link
from ari_app.llm.config import ProviderConfig
from ari_app.llm.tools import SECRETARY_TOOLS
from ari_app.llm.warmup import warm_up, warm_up_chain

PROMPT = [Message("system", "You are Anna."), Message("user", "...")]
WORDS = ["Hello", " there", ", how", " can", " I help?"]


def chain(*links: Link) -> FallbackChain:
    return FallbackChain(links, {"en": ("One moment",)}, 0.7, "en")


async def test_warm_up_stops_at_the_first_event() -> None:
    provider = FakeProvider("local", WORDS)
    took = await warm_up(provider, PROMPT, SECRETARY_TOOLS, timeout_s=5)
    assert took >= 0
    assert provider.asked == [(PROMPT, len(SECRETARY_TOOLS))]
    assert provider.yielded == 1 and provider.closed == 1  # the stream was closed after one


async def test_warm_up_times_out() -> None:
    with pytest.raises(TimeoutError):
        await warm_up(FakeProvider("slow", [1.0, *WORDS]), PROMPT, (), timeout_s=0.05)


async def test_the_chain_warms_only_its_marked_providers_and_survives_failures() -> None:
    local = FakeProvider("local", WORDS)
    broken = FakeProvider("broken", [LlmError("broken", "connection refused")])
    cloud = FakeProvider("cloud", WORDS)
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
