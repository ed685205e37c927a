"""Google Gemini: REST `models/{model}:streamGenerateContent?alt=sse` with function declarations.

Every `data:` of the stream is a whole GenerateContentResponse: text in
`candidates[0].content.parts[].text`, a tool call as a complete `functionCall {name, args}`
part, `finishReason` on the last one; there is no end marker, the stream just ends. The key
goes in the `x-goog-api-key` header, never in the URL (URLs end up in logs).

Conversation mapping: system -> `systemInstruction`; assistant -> role "model" (its tool calls
as `functionCall` parts); tool results -> role "user" `functionResponse` parts; consecutive
entries of one role are merged into one content, as the API wants turns to alternate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ari_app.llm.base import Done, Event, LlmError, Message, TextDelta, Tool, ToolCall
from ari_app.llm.config import ProviderConfig
from ari_app.llm.http_provider import HttpProvider
from ari_app.llm.sse import parse_json, post_sse


def _parts(message: Message) -> tuple[str, list[dict[str, Any]]]:
    if message.role == "tool":
        response = {"name": message.name or "", "response": {"content": message.content}}
        return "user", [{"functionResponse": response}]
    parts: list[dict[str, Any]] = [{"text": message.content}] if message.content else []
    if message.role == "assistant":
        parts += [{"functionCall": {"name": c.name, "args": c.args}} for c in message.tool_calls]
        return "model", parts
    return "user", parts


def request_body(
    config: ProviderConfig, messages: Sequence[Message], tools: Sequence[Tool]
) -> dict[str, Any]:
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    contents: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role, parts = _parts(message)
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    body: dict[str, Any] = {
        "contents": contents,
        "generationConfig": {
            "temperature": config.temperature,
            "maxOutputTokens": config.max_tokens,
        },
    }
    if system:
        body["systemInstruction"] = {"parts": [{"text": system}]}
    if tools:
        body["tools"] = [
            {
                "functionDeclarations": [
                    {"name": t.name, "description": t.description, "parameters": t.parameters}
                    for t in tools
                ]
            }
        ]
    return body


class ResponseParser:
    """Sans-I/O: GenerateContentResponse data strings in, events out."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.finish_reason: str | None = None
        self.seen = False
        self._calls = 0

    def feed(self, data: str) -> list[Event]:
        response = parse_json(self.provider, data)
        if not isinstance(response, dict):
            raise LlmError(self.provider, f"malformed stream: not an object: {data[:80]!r}")
        if "error" in response:
            error = response["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise LlmError(self.provider, f"error in stream: {message}")
        self.seen = True
        feedback = response.get("promptFeedback") or {}
        if feedback.get("blockReason"):
            raise LlmError(self.provider, f"prompt blocked: {feedback['blockReason']}")
        out: list[Event] = []
        for candidate in (response.get("candidates") or [])[:1]:
            for part in (candidate.get("content") or {}).get("parts") or ():
                if part.get("thought"):
                    continue  # thinking models' summaries are not for the caller
                if part.get("text"):
                    out.append(TextDelta(part["text"]))
                call = part.get("functionCall")
                if call:
                    args = call.get("args") or {}
                    if not isinstance(args, dict):
                        raise LlmError(self.provider, "malformed stream: functionCall args")
                    self._calls += 1
                    call_id = call.get("id") or f"call_{self._calls}"
                    out.append(ToolCall(call_id, str(call.get("name", "")), args))
            if candidate.get("finishReason"):
                self.finish_reason = str(candidate["finishReason"]).lower()
        return out

    def finish(self) -> list[Event]:
        if not self.seen:
            raise LlmError(self.provider, "malformed stream: no response in it")
        return [Done(finish_reason=self.finish_reason or "stop")]


class GeminiProvider(HttpProvider):
    def headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self._key is not None:
            headers["x-goog-api-key"] = self._key.reveal()
        return headers

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[Tool] = ()
    ) -> AsyncIterator[Event]:
        parser = ResponseParser(self.name)
        url = f"{self.config.url}/models/{self.config.model}:streamGenerateContent?alt=sse"
        body = request_body(self.config, messages, tools)
        async for sse in post_sse(self._client, self.name, url, self.headers(), body, self._key):
            for event in parser.feed(sse.data):
                yield event
        for event in parser.finish():
            yield event
