"""The API's in-memory conversation store: ids, TTL, size limit, reset."""

from __future__ import annotations

from pathlib import Path

import pytest

from ari_app.api.conversations import ConversationStore
from ari_app.mind.dialogue import Dialogue
from ari_app.mind.persona import Persona, load_persona

PERSONA = Path(__file__).resolve().parents[2] / "config" / "personas" / "default.yaml"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona(PERSONA)


def test_create_get_reset(persona: Persona) -> None:
    store = ConversationStore(clock=FakeClock())
    a = store.create("default", "ru", Dialogue(persona, "ru"))
    b = store.create("default", "en", Dialogue(persona, "en"))
    assert a.id != b.id and len(a.id) == 32
    assert store.get(a.id) is a and len(store) == 2
    assert store.reset(a.id) is True
    assert store.get(a.id) is None
    assert store.reset(a.id) is False
    assert store.get("nope") is None


def test_idle_conversations_expire_and_use_restarts_the_ttl(persona: Persona) -> None:
    clock = FakeClock()
    store = ConversationStore(ttl_s=60, clock=clock)
    a = store.create("default", "ru", Dialogue(persona, "ru"))
    b = store.create("default", "ru", Dialogue(persona, "ru"))
    clock.now += 50
    assert store.get(a.id) is a  # a's TTL restarts here
    clock.now += 20  # b idle for 70 s, a for 20 s
    assert store.get(b.id) is None
    assert store.get(a.id) is a
    clock.now += 61
    assert len(store) == 0


def test_the_least_recently_used_goes_when_full(persona: Persona) -> None:
    clock = FakeClock()
    store = ConversationStore(max_conversations=2, clock=clock)
    a = store.create("default", "ru", Dialogue(persona, "ru"))
    clock.now += 1
    b = store.create("default", "ru", Dialogue(persona, "ru"))
    clock.now += 1
    store.get(a.id)  # a is now the more recent
    c = store.create("default", "ru", Dialogue(persona, "ru"))
    assert store.get(b.id) is None
    assert store.get(a.id) is a and store.get(c.id) is c


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        ConversationStore(ttl_s=0)
