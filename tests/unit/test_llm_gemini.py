"""Gemini adapter: request mapping and a recorded streamGenerateContent?alt=sse stream."""

from __future__ import annotations

import json

import httpx
import pytest

from ari_app.llm.base import Done, LlmError, Message, TextDelta, ToolCall
from ari_app.llm.config import ProviderConfig
from ari_app.llm.gemini import GeminiProvider, request_body
from ari_app.llm.secrets import Secret
from ari_app.llm.tools import CHECK_HOURS


def sse(obj: dict[str, object]) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\r\n\r\n"


def candidate(parts: list[dict[str, object]], finish: str | None = None) -> dict[str, object]:
    out: dict[str, object] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        out["finishReason"] = finish
    return {"candidates": [out], "modelVersion": "gemini-test"}


# documented shape: each data line is a whole GenerateContentResponse; no end marker
STREAM = (
    sse(candidate([{"text": "We open"}]))
    + sse(candidate([{"text": " at nine."}], "STOP") | {"usageMetadata": {"totalTokenCount": 9}})
)
TOOL_STREAM = sse(
    candidate([{"functionCall": {"name": "check_hours", "args": {"day": "tomorrow"}}}], "STOP")
)
CONFIG = ProviderConfig(kind="gemini", model="gemini-test", max_tokens=50, temperature=0.1)


def provider_with(stream: str, seen: list[httpx.Request], status: int = 200) -> GeminiProvider:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text=stream, headers={"content-type": "text/event-stream"})

    return GeminiProvider(CONFIG, Secret("AIza-test-key"), transport=httpx.MockTransport(handler))


async def test_text_stream_and_request() -> None:
    seen: list[httpx.Request] = []
    provider = provider_with(STREAM, seen)
    messages = [Message("system", "Be brief."), Message("user", "Hours?")]
    events = [e async for e in provider.stream(messages, [CHECK_HOURS])]
    await provider.aclose()
    assert events == [TextDelta("We open"), TextDelta(" at nine."), Done(finish_reason="stop")]
    request = seen[0]
    assert request.url.path == "/v1beta/models/gemini-test:streamGenerateContent"
    assert request.url.params["alt"] == "sse"
    assert "key" not in request.url.params  # the key never goes into a URL
    assert request.headers["x-goog-api-key"] == "AIza-test-key"
    body = json.loads(request.content)
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Hours?"}]}]
    assert body["generationConfig"] == {"temperature": 0.1, "maxOutputTokens": 50}
    declaration = body["tools"][0]["functionDeclarations"][0]
    assert declaration["name"] == "check_hours"
    assert declaration["parameters"] == CHECK_HOURS.parameters


async def test_function_call() -> None:
    provider = provider_with(TOOL_STREAM, [])
    events = [e async for e in provider.stream([Message("user", "Tomorrow?")], [CHECK_HOURS])]
    await provider.aclose()
    assert events == [ToolCall("call_1", "check_hours", {"day": "tomorrow"}),
                      Done(finish_reason="stop")]  # fmt: skip


def test_roles_are_mapped_and_merged() -> None:
    call = ToolCall("call_1", "check_hours", {"day": "today"})
    body = request_body(CONFIG, [
        Message("system", "A"), Message("system", "B"),
        Message("user", "Open?"),
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", '{"open": true}', tool_call_id="call_1", name="check_hours"),
        Message("user", "Thanks"),
    ], [])  # fmt: skip
    assert body["systemInstruction"]["parts"][0]["text"] == "A\n\nB"
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][1]["parts"] == [
        {"functionCall": {"name": "check_hours", "args": {"day": "today"}}}
    ]
    assert body["contents"][2]["parts"] == [
        {"functionResponse": {"name": "check_hours", "response": {"content": '{"open": true}'}}},
        {"text": "Thanks"},
    ]
    assert "tools" not in body


@pytest.mark.parametrize(
    ("stream", "status", "expected"),
    [
        ("", 200, "no response in it"),
        ('data: {"candidates": [\r\n\r\n', 200, "not JSON"),
        (sse({"promptFeedback": {"blockReason": "SAFETY"}}), 200, "blocked: SAFETY"),
        ('{"error": {"code": 400, "message": "API key not valid"}}', 400, "API key not valid"),
        ('{"error": {"code": 429, "message": "quota"}}', 429, "HTTP 429"),
    ],
)
async def test_failures(stream: str, status: int, expected: str) -> None:
    provider = provider_with(stream, [], status)
    with pytest.raises(LlmError, match=expected):
        _ = [e async for e in provider.stream([Message("user", "hi")])]
    await provider.aclose()
