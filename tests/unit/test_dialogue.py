"""Persona loading and hours sentence; the rule-based dialogue in ru and en."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ari_app.dialogue import Dialogue, normalise
from ari_app.errors import ConfigError
from ari_app.persona import Persona, load_persona, time_words

PERSONA_PATH = Path(__file__).resolve().parents[2] / "config" / "personas" / "default.yaml"


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona(PERSONA_PATH)


# --- persona --------------------------------------------------------------------------


def test_default_persona(persona: Persona) -> None:
    assert persona.company == {"ru": "Ромашка", "en": "Romashka"}
    assert persona.secretary_name == {"ru": "Анна", "en": "Anna"}
    assert persona.languages == {"ru", "en"}
    assert "Ромашка" in persona.text("greeting", "ru")
    assert "Romashka" in persona.text("greeting", "en")


def test_hours_sentence_ru(persona: Persona) -> None:
    sentence = persona.hours_sentence("ru")
    assert sentence == (
        "с понедельника по четверг с девяти до восемнадцати, "
        "в пятницу с девяти до семнадцати, в субботу и воскресенье выходной"
    )
    assert not re.search(r"\d", sentence)


def test_hours_sentence_en(persona: Persona) -> None:
    sentence = persona.hours_sentence("en")
    assert "nine" in sentence and "six" in sentence and "five" in sentence
    assert sentence.startswith("Monday to Thursday from nine a.m. to six p.m.")
    assert "Saturday and Sunday closed" in sentence
    assert not re.search(r"\d", sentence)


@pytest.mark.parametrize(
    ("hour", "minute", "lang", "words"),
    [
        (9, 0, "ru", "девяти"),
        (18, 0, "ru", "восемнадцати"),
        (21, 0, "ru", "двадцати одного"),
        (8, 30, "ru", "восьми тридцати"),
        (0, 0, "ru", "полуночи"),
        (9, 0, "en", "nine a.m."),
        (18, 0, "en", "six p.m."),
        (12, 0, "en", "noon"),
        (0, 0, "en", "midnight"),
        (13, 30, "en", "one thirty p.m."),
    ],
)
def test_time_words(hour: int, minute: int, lang: str, words: str) -> None:
    assert time_words(hour, minute, lang) == words


def test_time_words_whole_range() -> None:
    for hour in range(24):
        for minute in (0, 30):
            for lang in ("ru", "en"):
                assert not re.search(r"\d", time_words(hour, minute, lang))
    with pytest.raises(ValueError):
        time_words(9, 15, "ru")


def test_other_hours_layout(tmp_path: Path) -> None:
    data = yaml.safe_load(PERSONA_PATH.read_text(encoding="utf-8"))
    data["hours"] = {
        "mon": "closed", "tue": "10:00-19:30", "wed": "10:00-19:30", "thu": "closed",
        "fri": "08:00-12:00", "sat": "08:00-12:00", "sun": "closed",
    }  # fmt: skip
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    p = load_persona(path)
    assert p.hours_sentence("ru") == (
        "в понедельник выходной, во вторник и среду с десяти до девятнадцати тридцати, "
        "в четверг выходной, в пятницу и субботу с восьми до двенадцати, в воскресенье выходной"
    )
    assert "Tuesday and Wednesday from ten a.m. to seven thirty p.m." in p.hours_sentence("en")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d["hours"].update(fri="9-17"), "hours.fri"),
        (lambda d: d["hours"].update(fri="18:00-09:00"), "hours.fri"),
        (lambda d: d["hours"].pop("sun"), "hours.sun: field required"),
        (lambda d: d["goodbye"].pop("en"), "goodbye.en"),
        (lambda d: d.update(slogan="x"), "slogan: unknown key"),
        (lambda d: d["hours_reply"].update(ru="Мы работаем."), "hours_reply.ru"),
    ],
)
def test_persona_errors_name_key(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], key: str
) -> None:
    data = yaml.safe_load(PERSONA_PATH.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_persona(path)
    assert str(info.value).startswith(str(path))
    assert key in str(info.value)


# --- dialogue -------------------------------------------------------------------------


def test_normalise() -> None:
    assert normalise("  Всё, ЧТО-то!  Ёлки? ") == "все что то елки"
    assert normalise("That's all.") == "thats all"


def test_greeting(persona: Persona) -> None:
    assert Dialogue(persona, "ru").greeting() == persona.text("greeting", "ru")
    assert Dialogue(persona, "en").greeting() == persona.text("greeting", "en")
    assert Dialogue(persona, "en").goodbye() == persona.text("goodbye", "en")
    with pytest.raises(ValueError):
        Dialogue(persona, "de")


@pytest.mark.parametrize(
    "text",
    [
        "Когда вы работаете?",
        "Подскажите часы работы.",
        "Чувства работы",  # Whisper mishearing of "часы работы"
        "часов работы",
        "Какой у вас график?",
        "Вы сегодня открыты?",
        "До скольки вы открыты в пятницу?",
        "режим работы",
        "Во сколько вы закрываетесь?",
        "Здравствуйте, а вы в субботу работаете?",
    ],
)
def test_hours_ru(persona: Persona, text: str) -> None:
    reply = Dialogue(persona, "ru").reply(text)
    assert reply.intent == "hours" and not reply.end_call
    assert "с понедельника по четверг с девяти до восемнадцати" in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "What are your opening hours?",
        "Opening ours.",  # mishearing
        "When are you open?",
        "What time do you close on Friday?",
        "Can you tell me your schedule?",
        "What are your business hours",
    ],
)
def test_hours_en(persona: Persona, text: str) -> None:
    reply = Dialogue(persona, "en").reply(text)
    assert reply.intent == "hours" and not reply.end_call
    assert "from nine a.m. to six p.m." in reply.text


@pytest.mark.parametrize(
    "text",
    [
        "До свидания!",
        "Спасибо, до свидания.",
        "Спасибо. До свиданья",
        "досвидания",
        "Всего доброго",
        "Ну ладно, пока.",
        "Спасибо большое!",
        "Спасибо, это всё.",
    ],
)
def test_goodbye_ru(persona: Persona, text: str) -> None:
    reply = Dialogue(persona, "ru").reply(text)
    assert reply.intent == "goodbye" and reply.end_call
    assert reply.text == persona.text("goodbye", "ru")


@pytest.mark.parametrize("text", ["Goodbye!", "Okay, bye.", "Thanks, that's all.", "Thank you"])
def test_goodbye_en(persona: Persona, text: str) -> None:
    reply = Dialogue(persona, "en").reply(text)
    assert reply.intent == "goodbye" and reply.end_call
    assert reply.text == persona.text("goodbye", "en")


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("ru", "Я хочу заказать пиццу."),
        ("ru", "Соедините меня с директором"),
        ("ru", "Пока не знаю, что спросить"),
        ("en", "I'd like to order a pizza."),
        ("en", "Can I speak to the manager?"),
    ],
)
def test_unknown(persona: Persona, lang: str, text: str) -> None:
    reply = Dialogue(persona, lang).reply(text)
    assert reply.intent == "unknown" and not reply.end_call
    assert reply.text == persona.text("only_hours", lang)


@pytest.mark.parametrize(
    "text", ["", "   ", "...", "Продолжение следует...", "Субтитры сделал DimaTorzok"]
)
def test_not_understood(persona: Persona, text: str) -> None:
    reply = Dialogue(persona, "ru").reply(text)
    assert reply.intent == "not_understood" and not reply.end_call
    assert reply.text == persona.text("not_understood", "ru")
