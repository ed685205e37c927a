"""OpenAI-compatible chat completions (OpenAI, vLLM, DeepSeek, OpenRouter, llama.cpp server).

POST {base_url}/chat/completions with `stream: true`; the answer is server-sent events, each
`data:` a chat.completion.chunk, the last one `data: [DONE]`. Text comes in
`choices[0].delta.content`; a tool call comes in pieces in `choices[0].delta.tool_calls[]`
(keyed by `index`: the id and name first, then the JSON `arguments` a fragment at a time),
so calls are emitted when the stream ends, arguments parsed once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ari_app.llm.base import Done, Event, LlmError, Message, TextDelta, Tool, ToolCall
from ari_app.llm.config import ProviderConfig
from ari_app.llm.http_provider import HttpProvider
from ari_app.llm.sse import parse_json, post_sse


def message_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.args)},
            }
            for call in message.tool_calls
        ]
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id or ""
    return out


def request_body(
    config: ProviderConfig, messages: Sequence[Message], tools: Sequence[Tool]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": config.model,
        "messages": [message_json(m) for m in messages],
        "stream": True,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
    }
    if tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                },
            }
            for t in tools
        ]
    return body


def parse_args(provider: str, name: str, raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        args = json.loads(raw)
    except json.JSONDecodeError:
        raise LlmError(
            provider, f"tool call {name}: arguments are not JSON: {raw[:80]!r}"
        ) from None
    if not isinstance(args, dict):
        raise LlmError(provider, f"tool call {name}: arguments are not a JSON object")
    return args


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ChunkParser:
    """Sans-I/O: chat.completion.chunk data strings in, events out."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.finish_reason: str | None = None
        self.done = False
        self._calls: dict[int, _PendingCall] = {}

    def feed(self, data: str) -> list[Event]:
        if data.strip() == "[DONE]":
            self.done = True
            return []
        chunk = parse_json(self.provider, data)
        if not isinstance(chunk, dict):
            raise LlmError(self.provider, f"malformed stream: not an object: {data[:80]!r}")
        if "error" in chunk:  # some servers report failures inside the stream
            error = chunk["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise LlmError(self.provider, f"error in stream: {message}")
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise LlmError(self.provider, f"malformed stream: no choices: {data[:80]!r}")
        out: list[Event] = []
        for choice in choices[:1]:
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if text:
                out.append(TextDelta(text))
            for piece in delta.get("tool_calls") or ():
                pending = self._calls.setdefault(int(piece.get("index", 0)), _PendingCall())
                pending.id = piece.get("id") or pending.id
                function = piece.get("function") or {}
                pending.name = function.get("name") or pending.name
                if function.get("arguments"):
                    pending.arguments.append(function["arguments"])
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        return out

    def finish(self) -> list[Event]:
        if not self.done and self.finish_reason is None:
            raise LlmError(self.provider, "malformed stream: it ended before [DONE]")
        out: list[Event] = []
        for index in sorted(self._calls):
            call = self._calls[index]
            if not call.name:
                raise LlmError(self.provider, f"malformed stream: tool call {index} has no name")
            args = parse_args(self.provider, call.name, "".join(call.arguments))
            out.append(ToolCall(call.id or f"call_{index}", call.name, args))
        out.append(Done(finish_reason=self.finish_reason or "stop"))
        return out


class OpenAICompatProvider(HttpProvider):
    def headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self._key is not None:
            headers["Authorization"] = f"Bearer {self._key.reveal()}"
        return headers

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[Tool] = ()
    ) -> AsyncIterator[Event]:
        parser = ChunkParser(self.name)
        url = f"{self.config.url}/chat/completions"
        body = request_body(self.config, messages, tools)
        async for sse in post_sse(self._client, self.name, url, self.headers(), body, self._key):
            for event in parser.feed(sse.data):
                yield event
            if parser.done:
                break
        for event in parser.finish():
            yield event
