"""Anthropic Messages API, streaming, with tools.

POST {base_url}/messages with `stream: true`, headers `x-api-key` and `anthropic-version`.
Named events: message_start, content_block_start (a `text` block, or a `tool_use` block with
id and name), content_block_delta (`text_delta` text, or `input_json_delta` partial_json of
the tool input), content_block_stop (a tool call is complete here), message_delta
(stop_reason), message_stop, ping, error.

Conversation mapping: system messages -> top-level `system`; assistant tool calls ->
`tool_use` blocks; tool results -> `tool_result` blocks of a user turn; consecutive entries of
one role are merged, as the API wants turns to alternate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ari_app.llm.base import Done, Event, LlmError, Message, TextDelta, Tool, ToolCall
from ari_app.llm.config import ProviderConfig
from ari_app.llm.http_provider import HttpProvider
from ari_app.llm.openai_compat import parse_args
from ari_app.llm.sse import parse_json, post_sse

API_VERSION = "2023-06-01"


def _blocks(message: Message) -> tuple[str, list[dict[str, Any]]]:
    if message.role == "tool":
        block = {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id or "",
            "content": message.content,
        }
        return "user", [block]
    blocks: list[dict[str, Any]] = (
        [{"type": "text", "text": message.content}] if message.content else []
    )
    if message.role == "assistant":
        blocks += [
            {"type": "tool_use", "id": c.id, "name": c.name, "input": c.args}
            for c in message.tool_calls
        ]
        return "assistant", blocks
    return "user", blocks


def request_body(
    config: ProviderConfig, messages: Sequence[Message], tools: Sequence[Tool]
) -> dict[str, Any]:
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role, blocks = _blocks(message)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    body: dict[str, Any] = {
        "model": config.model,
        "max_tokens": config.max_tokens,
        "temperature": config.temperature,
        "messages": turns,
        "stream": True,
    }
    if system:
        body["system"] = system
    if tools:
        body["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in tools
        ]
    return body


class EventParser:
    """Sans-I/O: (event name, data) in, events out."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.stop_reason: str | None = None
        self.stopped = False
        self._tools: dict[int, tuple[str, str, list[str]]] = {}  # index -> id, name, json parts

    def feed(self, event: str, data: str) -> list[Event]:
        payload = parse_json(self.provider, data)
        if not isinstance(payload, dict):
            raise LlmError(self.provider, f"malformed stream: not an object: {data[:80]!r}")
        kind = payload.get("type", event)
        if kind == "error":
            error = payload.get("error") or {}
            message = error.get("message", error) if isinstance(error, dict) else error
            raise LlmError(self.provider, f"error in stream: {message}")
        index = int(payload.get("index", 0))
        if kind == "content_block_start":
            block = payload.get("content_block") or {}
            if block.get("type") == "tool_use":
                self._tools[index] = (str(block.get("id", "")), str(block.get("name", "")), [])
            elif block.get("type") == "text" and block.get("text"):
                return [TextDelta(block["text"])]
        elif kind == "content_block_delta":
            delta = payload.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                return [TextDelta(delta["text"])]
            if delta.get("type") == "input_json_delta" and index in self._tools:
                self._tools[index][2].append(delta.get("partial_json", ""))
        elif kind == "content_block_stop" and index in self._tools:
            call_id, name, parts = self._tools.pop(index)
            return [ToolCall(call_id, name, parse_args(self.provider, name, "".join(parts)))]
        elif kind == "message_delta":
            reason = (payload.get("delta") or {}).get("stop_reason")
            if reason:
                self.stop_reason = str(reason)
        elif kind == "message_stop":
            self.stopped = True
        return []

    def finish(self) -> list[Event]:
        if not self.stopped:
            raise LlmError(self.provider, "malformed stream: it ended before message_stop")
        return [Done(finish_reason=self.stop_reason or "end_turn")]


class AnthropicProvider(HttpProvider):
    def headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "anthropic-version": API_VERSION}
        if self._key is not None:
            headers["x-api-key"] = self._key.reveal()
        return headers

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[Tool] = ()
    ) -> AsyncIterator[Event]:
        parser = EventParser(self.name)
        url = f"{self.config.url}/messages"
        body = request_body(self.config, messages, tools)
        async for sse in post_sse(self._client, self.name, url, self.headers(), body, self._key):
            for event in parser.feed(sse.event, sse.data):
                yield event
            if parser.stopped:
                break
        for event in parser.finish():
            yield event
