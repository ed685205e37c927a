"""The console's Chat: staff talk to the secretary through the calls' own mind (the rules,
and a scripted fake model), on the app's live personas; a message taken is stored."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from console_fixtures import REPO, console, login
from test_api_chat_mind import TAKE_MESSAGE
from test_llm_chain import FakeProvider, chain

from ari_app.api.messages import ApiMessages
from ari_app.console.auth import CSRF_HEADER
from ari_app.console.chat_api import ChatSetup
from ari_app.llm.chain import FallbackChain
from ari_app.mind.persona import Personas
from ari_app.notify.base import Notifications
from ari_app.storage import CallStore


def personas_in(tmp_path: Path) -> Personas:
    folder = tmp_path / "chat-personas"
    folder.mkdir()
    shutil.copy(REPO / "config" / "personas" / "default.yaml", folder)
    return Personas(folder)


def setup(personas: Personas, store: CallStore, llm: FallbackChain | None = None,
          frozen_time: datetime | None = None) -> ChatSetup:
    return ChatSetup(personas, "default", "ru", llm, ApiMessages(store, Notifications([])).keep,
                     frozen_time)


async def test_staff_chat_with_the_rules_on_the_live_persona(tmp_path: Path) -> None:
    personas = personas_in(tmp_path)
    async with CallStore(tmp_path / "chat.sqlite3") as store, \
            console(tmp_path, chat=setup(personas, store)) as c, c.client() as client:
        assert (await client.post("/api/chat", json={"text": ""})).status_code == 401
        headers = {CSRF_HEADER: await login(client, "rita")}
        persona = personas("default")
        greetings = {lang: {persona.greeting[lang], persona.greeting_off_hours[lang]}
                     for lang in ("ru", "en")}  # open or closed now: the hour is not ours
        hello = (await client.post("/api/chat", headers=headers, json={"text": ""})).json()
        assert hello["reply"] in greetings["ru"]
        asked = await client.post("/api/chat", headers=headers, json={
            "text": "Какие у вас часы работы?", "conversation_id": hello["conversation_id"]})
        assert asked.status_code == 200
        assert "понедельник" in asked.json()["reply"] and asked.json()["intent"] == "hours"
        gone = await client.post("/api/chat", headers=headers,
                                 json={"text": "Алло", "conversation_id": "nope"})
        assert gone.status_code == 404
        english = (await client.post("/api/chat", headers=headers,
                                     json={"text": "", "language": "en"})).json()
        assert english["reply"] in greetings["en"]
        assert (await client.post("/api/chat", headers=headers,
                                  json={"text": "", "language": "de"})).status_code == 422
        path = personas.path("default")  # a persona saved (by the console) is used at once
        text = path.read_text(encoding="utf-8")
        assert text.count("секретарь Анна") == 2  # both greetings
        path.write_text(text.replace("секретарь Анна", "секретарь Маргарита"), encoding="utf-8")
        again = (await client.post("/api/chat", headers=headers, json={"text": ""})).json()
        assert "секретарь Маргарита" in again["reply"]


async def test_a_message_taken_in_the_chat_is_stored(tmp_path: Path) -> None:
    model = FakeProvider("fake", [TAKE_MESSAGE])
    async with CallStore(tmp_path / "chat.sqlite3") as store, \
            console(tmp_path, chat=setup(personas_in(tmp_path), store, chain(model))) as c, \
            c.client() as client:
        headers = {CSRF_HEADER: await login(client, "root")}
        out = (await client.post("/api/chat", headers=headers,
                                 json={"text": "Передайте, что звонила Анна"})).json()
        assert out["intent"] == "take_message" and out["message"]["stored_id"] > 0
        assert out["message"]["call_id"] == "console:root"
        (row,) = await store.messages()
        assert (row["name"], row["urgency"]) == ("Анна", "urgent")


@pytest.mark.parametrize(("at", "open_now"), [
    ("2026-12-01T11:00:00+03:00", True),  # a Tuesday morning in Moscow
    ("2026-11-28T22:00:00+03:00", False),  # a Saturday night
])
async def test_the_chat_keeps_the_configs_frozen_time(tmp_path: Path, at: str,
                                                      open_now: bool) -> None:
    """The chat's calendar is the config's frozen_time, as a call's: the greeting says open or
    closed by that hour, whatever the real one is."""
    personas = personas_in(tmp_path)
    persona = personas("default")
    frozen = datetime.fromisoformat(at)
    assert persona.calendar.is_open(frozen) is open_now  # the persona's hours, read right
    async with CallStore(tmp_path / "chat.sqlite3") as store, \
            console(tmp_path, chat=setup(personas, store, frozen_time=frozen)) as c, \
            c.client() as client:
        headers = {CSRF_HEADER: await login(client, "rita")}
        hello = (await client.post("/api/chat", headers=headers, json={"text": ""})).json()
    expected = persona.greeting if open_now else persona.greeting_off_hours
    assert hello["reply"] == expected["ru"]
