"""Anthropic adapter: request mapping and a recorded Messages API event stream."""

from __future__ import annotations

import json

import httpx
import pytest

from ari_app.llm.anthropic import AnthropicProvider, request_body
from ari_app.llm.base import Done, LlmError, Message, TextDelta, ToolCall
from ari_app.llm.config import ProviderConfig
from ari_app.llm.secrets import Secret
from ari_app.llm.tools import TRANSFER_CALL


def ev(name: str, data: dict[str, object]) -> str:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data}, ensure_ascii=False)}\n\n"


# documented order: message_start, blocks (start, deltas, stop), message_delta, message_stop;
# ping may come anywhere
START = ev("message_start", {"message": {"id": "msg_1", "type": "message", "role": "assistant",
                                         "content": [], "model": "claude-test",
                                         "stop_reason": None, "usage": {"input_tokens": 10}}})
STREAM = (
    START
    + ev("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    + ev("ping", {})
    + ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Соединяю"}})
    + ev("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": " вас."}})
    + ev("content_block_stop", {"index": 0})
    + ev("content_block_start", {"index": 1, "content_block": {
        "type": "tool_use", "id": "toolu_01", "name": "transfer_call", "input": {}}})
    + ev("content_block_delta", {"index": 1, "delta": {
        "type": "input_json_delta", "partial_json": '{"target": "бух'}})
    + ev("content_block_delta", {"index": 1, "delta": {
        "type": "input_json_delta", "partial_json": 'галтерия"}'}})
    + ev("content_block_stop", {"index": 1})
    + ev("message_delta", {"delta": {"stop_reason": "tool_use", "stop_sequence": None},
                           "usage": {"output_tokens": 20}})
    + ev("message_stop", {})
)  # fmt: skip
CONFIG = ProviderConfig(kind="anthropic", model="claude-test", max_tokens=80)


def provider_with(stream: str, seen: list[httpx.Request], status: int = 200) -> AnthropicProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text=stream, headers={"content-type": "text/event-stream"})

    return AnthropicProvider(CONFIG, Secret("sk-ant-test"), transport=httpx.MockTransport(handler))


async def test_text_then_tool_use_and_request() -> None:
    seen: list[httpx.Request] = []
    provider = provider_with(STREAM, seen)
    messages = [Message("system", "Be brief."), Message("user", "Бухгалтерию, пожалуйста")]
    events = [e async for e in provider.stream(messages, [TRANSFER_CALL])]
    await provider.aclose()
    assert events == [
        TextDelta("Соединяю"),
        TextDelta(" вас."),
        ToolCall("toolu_01", "transfer_call", {"target": "бухгалтерия"}),
        Done(finish_reason="tool_use"),
    ]
    request = seen[0]
    assert str(request.url) == "https://api.anthropic.com/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert request.headers["anthropic-version"] == "2023-06-01"
    body = json.loads(request.content)
    assert body["system"] == "Be brief." and body["stream"] is True
    assert body["max_tokens"] == 80 and body["model"] == "claude-test"
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Бухгалтерию, пожалуйста"}]}
    ]
    assert body["tools"] == [{"name": "transfer_call", "description": TRANSFER_CALL.description,
                              "input_schema": TRANSFER_CALL.parameters}]  # fmt: skip


def test_tool_results_join_the_next_user_turn() -> None:
    call = ToolCall("toolu_9", "check_hours", {})
    body = request_body(CONFIG, [
        Message("user", "Open?"),
        Message("assistant", "Let me check.", tool_calls=(call,)),
        Message("tool", "9-18", tool_call_id="toolu_9", name="check_hours"),
        Message("user", "And Saturday?"),
    ], [])  # fmt: skip
    assert [t["role"] for t in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_9", "name": "check_hours", "input": {}},
    ]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_9", "content": "9-18"},
        {"type": "text", "text": "And Saturday?"},
    ]
    assert "system" not in body and "tools" not in body


@pytest.mark.parametrize(
    ("stream", "status", "expected"),
    [
        (START + ev("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}}),
         200, "Overloaded"),
        (START, 200, "ended before message_stop"),
        ("event: message_start\ndata: {oops\n\n", 200, "not JSON"),
        ('{"type": "error", "error": {"type": "authentication_error"}}', 401, "HTTP 401"),
        ('{"type": "error", "error": {"type": "overloaded_error"}}', 529, "HTTP 529"),
    ],
)
async def test_failures(stream: str, status: int, expected: str) -> None:
    provider = provider_with(stream, [], status)
    with pytest.raises(LlmError, match=expected):
        _ = [e async for e in provider.stream([Message("user", "hi")])]
    await provider.aclose()
