"""POST /chat through the same Mind as calls: the rules with the `llm:` section's models
(scripted fake providers, test_llm_chain.FakeProvider), the rules when no model answers;
messages taken are stored in the calls database; the models are closed when the app stops."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_api_app import FakeEngines, FakeNotifier, config, fake_engines
from test_llm_chain import FakeProvider, chain

from ari_app.api.app import create_app
from ari_app.llm.base import LlmError, ToolCall
from ari_app.mind.persona import Persona, load_persona
from ari_app.notify.base import Notifications
from ari_app.storage import CallStore

PERSONA = Path(__file__).resolve().parents[2] / "config" / "personas" / "default.yaml"
TAKE_MESSAGE = ToolCall("1", "take_message", {
    "caller_name": "Анна", "callback_number": "8 916 123 45 67", "message": "про счёт",
    "urgent": True,
})  # fmt: skip


class ClosedProvider(FakeProvider):
    """A FakeProvider that counts its closing."""

    aclosed = 0

    async def aclose(self) -> None:
        self.aclosed += 1


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona(PERSONA)


@pytest.fixture
def engines() -> FakeEngines:
    return fake_engines()


def stored_messages(database: Path) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with CallStore(database) as store:
            return await store.messages()

    return asyncio.run(read())


def test_the_model_answers_the_chat_and_is_closed_at_shutdown(
    tmp_path: Path, engines: FakeEngines, persona: Persona
) -> None:
    model = ClosedProvider("fake", ["Доставка по городу ", "бесплатная."])
    app = create_app(config(tmp_path), engines, {"default": persona}, llm=chain(model))
    with TestClient(app) as client:
        greeting = client.post("/chat", json={})
        assert greeting.status_code == 200 and greeting.json()["intent"] == "greeting"
        cid = greeting.json()["conversation_id"]
        out = client.post("/chat", json={"text": "Сколько стоит доставка?",
                                         "conversation_id": cid}).json()
        assert model.aclosed == 0
    assert out["reply"] == "Доставка по городу бесплатная." and out["intent"] == "llm"
    assert out["conversation_id"] == cid and not out["end_call"]
    (asked, tools), = model.asked
    assert [m.role for m in asked] == ["system", "assistant", "user"] and tools > 0
    assert model.aclosed == 1


def test_a_dead_model_leaves_the_chat_to_the_rules(
    tmp_path: Path, engines: FakeEngines, persona: Persona
) -> None:
    dead = FakeProvider("dead", [LlmError("dead", "connection refused")])
    app = create_app(config(tmp_path), engines, {"default": persona}, llm=chain(dead))
    with TestClient(app) as client:
        out = client.post("/chat", json={"text": "Когда вы работаете?"})
    assert out.status_code == 200 and out.json()["intent"].startswith("hours")
    assert dead.calls == 1


def test_a_message_taken_through_the_chat_is_stored(
    tmp_path: Path, engines: FakeEngines, persona: Persona
) -> None:
    notifier = FakeNotifier()
    model = FakeProvider("fake", [TAKE_MESSAGE])
    app = create_app(config(tmp_path), engines, {"default": persona}, llm=chain(model),
                     notifications=Notifications([notifier]))
    with TestClient(app) as client:
        out = client.post("/chat", json={"text": "Передайте, что звонила Анна"}).json()
    assert out["intent"] == "take_message" and out["message"]["name"] == "Анна"
    (sent,) = notifier.sent
    assert sent.call_id == f"api:{out['conversation_id']}"
    (row,) = stored_messages(tmp_path / "calls.sqlite3")
    assert row["name"] == "Анна" and row["reason"] == "про счёт" and row["urgency"] == "urgent"
    assert row["callback_number"] == out["message"]["callback_number"] == sent.callback_number
    assert row["language"] == "ru" and row["call_id"] is None  # a chat is not a call
    assert row["notified"] == {"fake": "ok"}
