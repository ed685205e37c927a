"""OpenAI-compatible adapter: the request it builds and how it reads a recorded stream."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from ari_app.llm.base import Done, LlmError, Message, TextDelta, ToolCall
from ari_app.llm.config import ProviderConfig
from ari_app.llm.openai_compat import ChunkParser, OpenAICompatProvider, request_body
from ari_app.llm.secrets import Secret
from ari_app.llm.tools import END_CALL, TAKE_MESSAGE


def chunk(delta: dict[str, object], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }  # fmt: skip
    return f"data: {json.dumps(body)}\n\n"


# the documented shape: role first, then text pieces; a tool call's id and name first, then
# its JSON arguments in fragments; finish_reason on the last chunk; then [DONE]
TEXT_STREAM = (
    chunk({"role": "assistant", "content": ""})
    + chunk({"content": "Мы работаем"})
    + chunk({"content": " с девяти."})
    + chunk({}, "stop")
    + "data: [DONE]\n\n"
)
TOOL_STREAM = (
    chunk({"role": "assistant", "content": None, "tool_calls": [{
        "index": 0, "id": "call_abc", "type": "function",
        "function": {"name": "take_message", "arguments": ""}}]})
    + chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"message": "Перез'}}]})
    + chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'воните", "urgent": true}'}}]})
    + chunk({"tool_calls": [{"index": 1, "id": "call_def", "type": "function",
                             "function": {"name": "end_call", "arguments": "{}"}}]})
    + chunk({}, "tool_calls")
    + "data: [DONE]\n\n"
)  # fmt: skip

CONFIG = ProviderConfig(kind="openai", model="gpt-test", base_url="http://llm.test/v1",
                        temperature=0.2, max_tokens=64)  # fmt: skip


def provider_with(stream: str, seen: list[httpx.Request], status: int = 200,
                  key: str | None = "sk-test-123") -> OpenAICompatProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text=stream, headers={"content-type": "text/event-stream"})

    secret = Secret(key) if key else None
    return OpenAICompatProvider(CONFIG, secret, transport=httpx.MockTransport(handler))


async def collect(provider: OpenAICompatProvider, messages: list[Message], tools=()) -> list:
    return [e async for e in provider.stream(messages, tools)]


async def test_text_stream_and_request() -> None:
    seen: list[httpx.Request] = []
    provider = provider_with(TEXT_STREAM, seen)
    events = await collect(provider, [Message("system", "Be brief."), Message("user", "Часы?")],
                           [END_CALL])  # fmt: skip
    await provider.aclose()
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Мы работаем", " с девяти."]
    assert events[-1] == Done(finish_reason="stop")
    request = seen[0]
    assert str(request.url) == "http://llm.test/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test-123"
    body = json.loads(request.content)
    assert body["stream"] is True and body["model"] == "gpt-test"
    assert body["max_tokens"] == 64 and body["temperature"] == 0.2
    assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "Часы?"}]  # fmt: skip
    assert body["tools"][0]["type"] == "function"
    assert body["tools"][0]["function"]["name"] == "end_call"
    assert body["tools"][0]["function"]["parameters"] == END_CALL.parameters


async def test_no_key_no_authorization_header() -> None:
    seen: list[httpx.Request] = []
    provider = provider_with(TEXT_STREAM, seen, key=None)
    await collect(provider, [Message("user", "hi")])
    await provider.aclose()
    assert "authorization" not in seen[0].headers


async def test_tool_call_fragments_are_joined() -> None:
    provider = provider_with(TOOL_STREAM, [])
    events = await collect(provider, [Message("user", "Передайте")], [TAKE_MESSAGE, END_CALL])
    await provider.aclose()
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert calls == [
        ToolCall("call_abc", "take_message", {"message": "Перезвоните", "urgent": True}),
        ToolCall("call_def", "end_call", {}),
    ]
    assert events[-1] == Done(finish_reason="tool_calls")


def test_tool_round_trip_messages() -> None:
    call = ToolCall("call_1", "check_hours", {"day": "today"})
    body = request_body(CONFIG, [
        Message("user", "Вы открыты?"),
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", '{"open": true}', tool_call_id="call_1", name="check_hours"),
    ], [])  # fmt: skip
    assistant, tool = body["messages"][1], body["messages"][2]
    assert assistant["content"] is None
    assert assistant["tool_calls"][0]["function"] == {"name": "check_hours",
                                                      "arguments": '{"day": "today"}'}
    assert tool == {"role": "tool", "content": '{"open": true}', "tool_call_id": "call_1"}
    assert "tools" not in body


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        ('data: {"choices": [{"delta": {"content": "Hi"}\n\n', "not JSON"),
        (chunk({"content": "Hi"}), "ended before [DONE]"),
        ('data: {"error": {"message": "model overloaded"}}\n\n', "model overloaded"),
        ('data: {"object": "x"}\n\n', "no choices"),
        ("<html>502 Bad Gateway</html>\n", "ended before [DONE]"),
    ],
)
async def test_malformed_streams_raise(stream: str, expected: str) -> None:
    provider = provider_with(stream, [])
    with pytest.raises(LlmError, match=re.escape(expected)):
        await collect(provider, [Message("user", "hi")])
    await provider.aclose()


async def test_http_errors_say_status_and_body() -> None:
    provider = provider_with('{"error": {"message": "Incorrect API key"}}', [], status=401)
    with pytest.raises(LlmError, match=r"HTTP 401.*Incorrect API key"):
        await collect(provider, [Message("user", "hi")])
    await provider.aclose()
    provider = provider_with("overloaded", [], status=503)
    with pytest.raises(LlmError, match=r"HTTP 503.*overloaded"):
        await collect(provider, [Message("user", "hi")])
    await provider.aclose()


def test_parser_ignores_a_role_only_chunk() -> None:
    parser = ChunkParser("p")
    assert parser.feed(chunk({"role": "assistant"})[6:].strip()) == []
    assert parser.feed("[DONE]") == [] and parser.done
    assert parser.finish() == [Done(finish_reason="stop")]
