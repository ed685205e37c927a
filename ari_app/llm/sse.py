"""Server-sent events: a sans-I/O line decoder and one streaming POST shared by the adapters.

`SseDecoder.feed(line)` follows the WHATWG event-stream rules the providers use: `field:
value` lines (one optional space after the colon), `:` comments, several `data:` lines joined
with newlines, a blank line dispatching the event. `post_sse` maps every transport failure and
non-2xx answer to `LlmError`, with any echo of the API key scrubbed from the message.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ari_app.llm.base import LlmError
from ari_app.llm.secrets import Secret

_BODY_EXCERPT = 300


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    data: str


class SseDecoder:
    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> ServerSentEvent | None:
        """One line without its line ending; an event when `line` is the blank dispatch line."""
        if not line:
            if not self._data:
                self._event = ""
                return None
            out = ServerSentEvent(self._event or "message", "\n".join(self._data))
            self._event, self._data = "", []
            return out
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None  # id and retry do not matter for a one-shot reply

    def close(self) -> ServerSentEvent | None:
        """The event left when the stream ended without a final blank line."""
        return self.feed("")


def parse_json(provider: str, data: str) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise LlmError(
            provider, f"malformed stream: not JSON ({exc.msg}): {data[:80]!r}"
        ) from None


async def post_sse(
    client: httpx.AsyncClient,
    provider: str,
    url: str,
    headers: Mapping[str, str],
    body: Mapping[str, Any],
    secret: Secret | None,
) -> AsyncIterator[ServerSentEvent]:
    def clean(text: str) -> str:
        return secret.scrub(text) if secret is not None else text

    try:
        async with client.stream("POST", url, headers=dict(headers), json=body) as response:
            if response.status_code >= 300:
                raw = (await response.aread()).decode("utf-8", "replace")
                excerpt = clean(" ".join(raw.split())[:_BODY_EXCERPT])
                raise LlmError(provider, f"HTTP {response.status_code} from {url}: {excerpt}")
            decoder = SseDecoder()
            async for line in response.aiter_lines():
                event = decoder.feed(line)
                if event is not None:
                    yield event
            last = decoder.close()
            if last is not None:
                yield last
    except httpx.TimeoutException as exc:
        raise LlmError(provider, f"timed out talking to {url} ({type(exc).__name__})") from None
    except httpx.ConnectError as exc:
        raise LlmError(provider, f"cannot connect to {url}: {clean(str(exc))}") from None
    except httpx.HTTPError as exc:
        detail = clean(str(exc)) or type(exc).__name__
        raise LlmError(provider, f"connection to {url} failed: {detail}") from None
