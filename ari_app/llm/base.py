"""The language-model contract: messages and tool schemas in, a stream of events out.

A provider's `stream(messages, tools)` is an async generator of `TextDelta` and `ToolCall`
events ending with one `Done`. A provider that cannot answer raises `LlmError`, and the
fallback chain (chain.py) asks the next one, whatever the error. The chain adds `Filler`
events and the timings to its `Done`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ari_app.errors import SecretaryError

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """The model asks us to run tool `name` with `args`; `id` pairs it with its result."""

    id: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Message:
    """One entry of the conversation.

    role "assistant" may carry `tool_calls` it made; role "tool" answers the call
    `tool_call_id` (of tool `name`) with `content`.
    """

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Tool:
    """A function the model may call: `parameters` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Filler:
    """A short phrase to say while the answer is late (at most one per turn)."""

    text: str
    after_ms: float  # since the turn started


@dataclass(frozen=True)
class Attempt:
    """One provider's try within a turn, for the record."""

    provider: str
    outcome: Literal["ok", "error", "first_token_timeout", "total_timeout", "empty"]
    elapsed_ms: float
    error: str = ""


@dataclass(frozen=True)
class Done:
    """The end of a reply. Providers fill `finish_reason`; the chain adds the rest."""

    finish_reason: str = "stop"
    provider: str = ""
    first_token_ms: float | None = None  # turn start -> first text or tool call
    total_ms: float | None = None
    attempts: tuple[Attempt, ...] = field(default_factory=tuple)


Event = TextDelta | ToolCall | Filler | Done


class LlmError(SecretaryError):
    """A provider failed: a network error, a timeout, an HTTP error, a malformed stream."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"llm provider {provider}: {message}")
        self.provider = provider


class LlmUnavailable(SecretaryError):
    """Every provider of the chain failed; the message lists why, one per provider."""


@runtime_checkable
class LlmProvider(Protocol):
    @property
    def name(self) -> str: ...

    def stream(
        self, messages: Sequence[Message], tools: Sequence[Tool] = ()
    ) -> AsyncIterator[Event]: ...

    async def aclose(self) -> None: ...

