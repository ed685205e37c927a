"""Finding who the caller asks for, and the transfer request for the LLM path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ari_app.mind.persona import Persona, load_persona
from ari_app.mind.staff import find_target, transfer_request

PERSONA_PATH = Path(__file__).resolve().parents[2] / "config" / "personas" / "default.yaml"
MSK = ZoneInfo("Europe/Moscow")
WED_11 = dt.datetime(2026, 4, 29, 11, 0, tzinfo=MSK)


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona(PERSONA_PATH)


@pytest.mark.parametrize(
    ("text", "lang", "key"),
    [
        ("Соедините с Петровым", "ru", "petrov"),
        ("мне бы Ивана", "ru", "petrov"),
        ("Марию Смирнову можно?", "ru", "smirnova"),
        ("с отделом продаж", "ru", "sales"),
        ("с бухгалтерией", "ru", "accounting"),
        ("с вашим руководителем", "ru", "kuznetsov"),
        ("the director please", "en", "kuznetsov"),
        ("accounting", "en", "accounting"),
        ("Ivan Petrov", "en", "petrov"),
        ("Oleg", "en", "kuznetsov"),
        ("Меня зовут Иван Петров, соедините с бухгалтерией", "ru", "accounting"),
        ("My name is Oleg. The sales department, please", "en", "sales"),
        ("меня зовут иван соедините с петровым", "ru", "petrov"),  # no punctuation (Vosk)
    ],
)
def test_find_target(persona: Persona, text: str, lang: str, key: str) -> None:
    target = find_target(persona, text, lang)
    assert target is not None and target.key == key


def test_find_nobody(persona: Persona) -> None:
    assert find_target(persona, "с кем-нибудь", "ru") is None
    assert find_target(persona, "", "en") is None
    # a caller who shares a staff member's name is introducing themself
    assert find_target(persona, "Меня зовут Иван Петров", "ru") is None
    assert find_target(persona, "my name is Maria Smirnova", "en") is None


def test_a_transfer_request_for_whoever_the_caller_names(persona: Persona) -> None:
    target = find_target(persona, "Put me through to Ivan Petrov", "en")
    assert target is not None and target.allowed(persona)
    request = transfer_request(persona, target, caller_name="Kim", caller_number="+79161234567",
                               said="Put me through to Ivan Petrov")
    assert (request.target, request.mode, request.department) == ("201", "attended", "sales")
    assert request.staff_name == "Иван Петров"
    assert request.announcement == (
        "Вам звонит Kim, номер плюс семь, девять один шесть, один два три, четыре пять, шесть "
        "семь. Абонент сказал: «Put me through to Ivan Petrov»."
    )
    # the director is not on the transfer list; nobody is in on Sunday
    director = find_target(persona, "the director", "en")
    assert director is None or not director.allowed(persona)
    sales = find_target(persona, "sales", "en")
    assert sales is not None
    assert not sales.available(persona, dt.datetime(2026, 5, 3, 12, tzinfo=MSK))
    assert sales.available(persona, WED_11)
