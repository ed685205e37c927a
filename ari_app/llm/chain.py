"""The fallback chain: providers tried in order, so that a caller never hears dead air.

Per turn: the first provider gets `first_token_timeout_s` to produce its first text or tool
call and `total_timeout_s` to finish; one that fails, is late or answers nothing hands over to
the next. Independently of the hand-over, when nothing has come `filler_after_s` after the
turn started, one `Filler` event (a phrase such as "Одну секунду...") is emitted: at most one
per turn. Once a provider has spoken, the chain stays with it: a failure after the first token
ends the reply with `Done(finish_reason="error" | "timeout")` rather than starting over in
another voice. When every provider fails, `LlmUnavailable` lists why, one line each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ari_app.llm.base import (
    Attempt,
    Done,
    Event,
    Filler,
    LlmError,
    LlmProvider,
    LlmUnavailable,
    Message,
    Tool,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Link:
    provider: LlmProvider
    first_token_timeout_s: float
    total_timeout_s: float
    warm_up: bool = False  # its prompt cache is warmed at start (llm/warmup.py)


class FallbackChain:
    def __init__(
        self,
        links: Sequence[Link],
        fillers: Mapping[str, Sequence[str]],
        filler_after_s: float,
        default_language: str = "ru",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not links:
            raise ValueError("a fallback chain needs at least one provider")
        self.links = tuple(links)
        self.fillers = {lang: tuple(phrases) for lang, phrases in fillers.items()}
        self.filler_after_s = filler_after_s
        self.default_language = default_language
        self._clock = clock
        self._fillers_said = 0

    @property
    def name(self) -> str:
        return " > ".join(link.provider.name for link in self.links)

    def filler_phrase(self, language: str) -> str | None:
        phrases = self.fillers.get(language) or self.fillers.get(self.default_language)
        if not phrases:
            return None
        phrase = phrases[self._fillers_said % len(phrases)]
        self._fillers_said += 1
        return phrase

    async def stream(
        self,
        messages: Sequence[Message],
        tools: Sequence[Tool] = (),
        *,
        language: str | None = None,
    ) -> AsyncIterator[Event]:
        started = self._clock()
        turn = _Turn(started, started + self.filler_after_s)
        for link in self.links:
            attempt = self._try(link, messages, tools, turn, language)
            async with contextlib.aclosing(attempt) as tried:
                async for event in tried:
                    yield event
                    if isinstance(event, Done):
                        return
        raise LlmUnavailable(
            "no language model answered:\n"
            + "\n".join(f"  {a.provider}: {a.outcome} {a.error}".rstrip() for a in turn.attempts)
        )

    async def _try(
        self,
        link: Link,
        messages: Sequence[Message],
        tools: Sequence[Tool],
        turn: _Turn,
        language: str | None,
    ) -> AsyncGenerator[Event, None]:
        """One provider's attempt; yields its events (and the filler) and a final Done only
        when it answered; records the attempt either way."""
        name = link.provider.name
        begun = self._clock()
        first_deadline = begun + link.first_token_timeout_s
        total_deadline = begun + link.total_timeout_s
        spoke = False
        events = link.provider.stream(messages, tools)
        pending: asyncio.Future[Event] | None = None

        def attempt(outcome: Any, error: str = "") -> Attempt:
            elapsed = (self._clock() - begun) * 1000
            return Attempt(name, outcome, round(elapsed, 1), error)

        def done(finish_reason: str) -> Done:
            now = self._clock()
            first = None if turn.first_at is None else (turn.first_at - turn.started) * 1000
            return Done(
                finish_reason=finish_reason,
                provider=name,
                first_token_ms=None if first is None else round(first, 1),
                total_ms=round((now - turn.started) * 1000, 1),
                attempts=tuple(turn.attempts),
            )

        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(events.__anext__())
                deadline = total_deadline if spoke else first_deadline
                wake = deadline
                if turn.filler_due is not None and turn.first_at is None:
                    wake = min(wake, turn.filler_due)
                finished, _ = await asyncio.wait({pending}, timeout=max(0.0, wake - self._clock()))
                now = self._clock()
                if not finished:
                    if turn.filler_due is not None and turn.first_at is None and now >= wake:
                        turn.filler_due = None
                        phrase = self.filler_phrase(language or self.default_language)
                        if phrase is not None:
                            yield Filler(phrase, round((now - turn.started) * 1000, 1))
                    if now < deadline:
                        continue
                    outcome = "total_timeout" if spoke else "first_token_timeout"
                    turn.attempts.append(attempt(outcome, f"after {now - begun:.2f} s"))
                    log.warning("llm %s: %s after %.2f s", name, outcome, now - begun)
                    if spoke:
                        yield done("timeout")
                    return
                future, pending = pending, None
                try:
                    event = future.result()
                except StopAsyncIteration:
                    event = Done(finish_reason="stop")
                except Exception as exc:
                    reason = str(exc) if isinstance(exc, LlmError) else repr(exc)
                    turn.attempts.append(attempt("error", reason))
                    if isinstance(exc, LlmError):
                        log.warning("llm %s failed: %s", name, reason)
                    else:
                        log.exception("llm %s failed unexpectedly", name)
                    if spoke:
                        yield done("error")
                    return
                if isinstance(event, Done):
                    if not spoke:
                        turn.attempts.append(attempt("empty", "the reply was empty"))
                        log.warning("llm %s: empty reply", name)
                        return
                    turn.attempts.append(attempt("ok"))
                    yield done(event.finish_reason)
                    return
                if not spoke:
                    spoke = True
                    turn.first_at = self._clock()
                yield event
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending
            if isinstance(events, AsyncGenerator):
                with contextlib.suppress(Exception):
                    await events.aclose()

    async def aclose(self) -> None:
        for link in self.links:
            await link.provider.aclose()


class _Turn:
    """What the attempts of one turn share."""

    def __init__(self, started: float, filler_due: float) -> None:
        self.started = started
        self.filler_due: float | None = filler_due
        self.first_at: float | None = None
        self.attempts: list[Attempt] = []
