"""Warming a model server's prompt cache before the first call.

A self-hosted server (llama.cpp, vLLM) keeps the prompt it last processed and reuses its
longest common prefix. Every call's first LLM turn starts with the same system prompt and
tools, so sending that prompt once at start moves its processing (seconds on a CPU) out of
the first caller's turn. The request stops at the first event: by then the whole prompt has
been processed; nothing generated is used.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from ari_app.llm.base import LlmProvider, Message, Tool
from ari_app.llm.chain import FallbackChain

log = logging.getLogger(__name__)


async def warm_up(
    provider: LlmProvider, messages: Sequence[Message], tools: Sequence[Tool], timeout_s: float
) -> float:
    """Send one request and stop at its first event; seconds taken. Raises what the provider
    raises (LlmError) or TimeoutError."""
    started = time.monotonic()
    events = provider.stream(messages, tools)
    try:
        async with asyncio.timeout(timeout_s):
            async for _event in events:
                break
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
    return time.monotonic() - started


async def warm_up_chain(
    chain: FallbackChain,
    prompts: Sequence[tuple[str, Sequence[Message]]],
    tools: Sequence[Tool],
) -> dict[str, float | str]:
    """Each prompt (labelled) on each provider of `chain` marked for warm-up, one after the
    other, each within its provider's total timeout; per "provider/label" the seconds taken
    or why it failed. A failure is logged, never raised: calls go on without a warm cache."""
    outcome: dict[str, float | str] = {}
    for link in chain.links:
        if not link.warm_up:
            continue
        provider = link.provider
        for label, messages in prompts:
            key = f"{provider.name}/{label}"
            try:
                took = await warm_up(provider, messages, tools, link.total_timeout_s)
            except Exception as exc:  # LlmError, TimeoutError, anything: logged, never raised
                log.warning("LLM warm-up %s failed: %r", key, exc)
                outcome[key] = f"failed: {exc!r}"
                continue
            log.info("LLM warm-up %s: prompt processed in %.2f s", key, took)
            outcome[key] = took
    return outcome
