"""The rule-based dialogue, one turn at a time, in ru and en, with a frozen clock."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ari_app.mind.dialogue import Dialogue, normalise
from ari_app.mind.persona import Persona, load_persona

PERSONA_PATH = Path(__file__).resolve().parents[2] / "config" / "personas" / "default.yaml"
MSK = ZoneInfo("Europe/Moscow")
WED_11 = dt.datetime(2026, 4, 29, 11, 0, tzinfo=MSK)  # a Wednesday, open 09-18
WED_20 = dt.datetime(2026, 4, 29, 20, 0, tzinfo=MSK)  # the same day, closed since 18:00


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona(PERSONA_PATH)


def talk(persona: Persona, lang: str, when: dt.datetime = WED_11, **kw: str) -> Dialogue:
    return Dialogue(persona, lang, now=lambda: when, **kw)


def test_normalise() -> None:
    assert normalise("  Всё, ЧТО-то!  Ёлки? ") == "все что то елки"
    assert normalise("That's all.") == "thats all"


def test_greeting_follows_the_calendar(persona: Persona) -> None:
    assert talk(persona, "ru").greeting() == persona.text("greeting", "ru")
    assert talk(persona, "en").greeting() == persona.text("greeting", "en")
    assert talk(persona, "ru", WED_20).greeting() == persona.text("greeting_off_hours", "ru")
    assert talk(persona, "en", WED_20).greeting() == persona.text("greeting_off_hours", "en")
    assert talk(persona, "en").goodbye() == persona.text("goodbye", "en")
    with pytest.raises(ValueError, match="de"):
        Dialogue(persona, "de")


def test_history_records_both_sides(persona: Persona) -> None:
    d = talk(persona, "ru")
    d.greeting()
    reply = d.reply("Какие у вас часы работы?")
    assert d.history == [
        ("secretary", persona.text("greeting", "ru")),
        ("caller", "Какие у вас часы работы?"),
        ("secretary", reply.text),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Когда вы работаете?",
        "Подскажите часы работы.",
        "Здравствуйте! Подскажите, пожалуйста, какие у вас часы работы?",
        "Чувства работы",  # Whisper mishearing of "часы работы"
        "часов работы",
        "Какой у вас график?",
        "режим работы",
    ],
)
def test_week_hours_ru(persona: Persona, text: str) -> None:
    reply = talk(persona, "ru").reply(text)
    assert reply.intent == "hours" and not reply.end_call
    assert reply.text == persona.hours_reply_text("ru")
    assert "с понедельника по четверг с девяти до восемнадцати" in reply.text
    assert not re.search(r"\d", reply.text)


@pytest.mark.parametrize(
    "text",
    [
        "What are your opening hours?",
        "Hello! Could you tell me your opening hours, please?",
        "Opening ours.",  # mishearing
        "When are you open?",
        "Can you tell me your schedule?",
        "What are your business hours",
    ],
)
def test_week_hours_en(persona: Persona, text: str) -> None:
    reply = talk(persona, "en").reply(text)
    assert reply.intent == "hours" and not reply.end_call
    assert "Monday to Thursday from nine a.m. to six p.m." in reply.text


@pytest.mark.parametrize(
    ("lang", "text", "when", "expected"),
    [
        ("ru", "Вы работаете в субботу?", WED_11, "В субботу у нас выходной."),
        ("ru", "Здравствуйте, а вы в субботу работаете?", WED_11, "В субботу у нас выходной."),
        ("ru", "До скольки вы открыты в пятницу?", WED_11,
         "В пятницу, первого мая, мы не работаем: Праздник весны и труда."),
        ("ru", "Вы сейчас открыты?", WED_11, "Да, сейчас мы открыты, работаем до восемнадцати."),
        ("ru", "Вы ещё работаете?", WED_20,
         "Сейчас мы закрыты. Откроемся завтра в девять."),
        ("ru", "До скольки вы работаете сегодня?", WED_11, "Сегодня мы работаем до восемнадцати."),
        ("ru", "До скольки вы работаете сегодня?", WED_20,
         "Сегодня мы уже закрылись, мы работали до восемнадцати. Откроемся завтра в девять."),
        ("ru", "А завтра вы до скольки?", WED_11,
         "Завтра, тридцатого апреля, мы работаем с девяти до семнадцати, это сокращённый день."),
        ("ru", "Вы работаете первого мая?", WED_11,
         "В пятницу, первого мая, мы не работаем: Праздник весны и труда."),
        ("en", "Are you open on Saturday?", WED_11, "On Saturday we are closed."),
        ("en", "Are you open now?", WED_11, "Yes, we are open now, until six p.m."),
        ("en", "Are you still open?", WED_20, "We are closed now. We open tomorrow at nine a.m."),
        ("en", "Until what time are you open today?", WED_11,
         "Today we are open until six p.m."),
        ("en", "Are you open on May 1st?", WED_11,
         "On Friday, May first, we are closed for Labour Day."),
    ],
)
def test_hours_from_the_calendar(
    persona: Persona, lang: str, text: str, when: dt.datetime, expected: str
) -> None:
    reply = talk(persona, lang, when).reply(text)
    assert reply.intent == "hours", reply
    assert reply.text.startswith(expected), reply.text
    assert not re.search(r"\d", reply.text)


def test_closed_day_adds_the_week_in_full_tone(persona: Persona) -> None:
    text = talk(persona, "ru").reply("Вы работаете в воскресенье?").text
    assert text == f"В воскресенье у нас выходной. {persona.hours_reply_text('ru')}"
    short = persona.model_copy(update={"tone": persona.tone.model_copy(update={"length": "short"})})
    assert talk(short, "ru").reply("Вы работаете в воскресенье?").text == (
        "В воскресенье у нас выходной."
    )


def test_holidays(persona: Persona) -> None:
    reply = talk(persona, "ru").reply("Вы работаете в праздники?")
    assert reply.intent == "hours"
    assert reply.text.startswith("В праздники мы не работаем: первое мая, Праздник весны и труда")
    reply = talk(persona, "en", dt.datetime(2026, 12, 20, 12, tzinfo=MSK)).reply(
        "Are you open over the New Year holidays?"
    )
    assert "from January first to January eleventh" in reply.text or "January first" in reply.text


@pytest.mark.parametrize(
    ("lang", "text", "intent", "expected"),
    [
        ("ru", "Сколько стоит доставка?", "price",
         "Доставка по Москве стоит пятьсот рублей за заказ."),
        ("ru", "Какие у вас цены?", "price", "Наши цены: доставка по Москве — пятьсот рублей"),
        ("ru", "Почём авторский букет?", "price",
         "Авторский букет стоит три тысячи пятьсот рублей."),
        ("en", "How much is the flower subscription?", "price",
         "The flower subscription costs nine thousand nine hundred roubles a month."),
        ("ru", "Можно оплатить картой?", "faq", "Оплатить можно картой"),
        ("ru", "А парковка у вас есть?", "faq", "Да, во дворе есть бесплатная парковка"),
        ("ru", "Доставляете ли вы в выходные?", "faq", "Да, курьеры работают и в выходные"),
        ("en", "Where can I park?", "faq", "Yes, there is free customer parking"),
        ("ru", "Какой у вас адрес?", "address", "Наш адрес: Москва, улица Садовая, дом десять"),
        ("en", "Where are you located?", "address", "Our address is ten Sadovaya Street"),
        ("ru", "Чем вы занимаетесь?", "services", "«Ромашка» — цветочный магазин"),
        ("en", "What services do you offer?", "services", "Romashka is a flower shop"),
        ("ru", "Здравствуйте!", "greeting", "Здравствуйте! Чем могу помочь?"),
    ],
)
def test_facts(persona: Persona, lang: str, text: str, intent: str, expected: str) -> None:
    reply = talk(persona, lang).reply(text)
    assert reply.intent == intent, reply
    assert reply.text.startswith(expected), reply.text
    assert not re.search(r"\d", reply.text)


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
    reply = talk(persona, "ru").reply(text)
    assert reply.intent == "goodbye" and reply.end_call
    assert reply.text == persona.text("goodbye", "ru")


@pytest.mark.parametrize("text", ["Goodbye!", "Okay, bye.", "Thanks, that's all.", "Thank you"])
def test_goodbye_en(persona: Persona, text: str) -> None:
    reply = talk(persona, "en").reply(text)
    assert reply.intent == "goodbye" and reply.end_call
    assert reply.text == persona.text("goodbye", "en")


@pytest.mark.parametrize(
    ("lang", "text", "when", "offer"),
    [
        # open: the general questions go to sales, so both are offered
        ("ru", "Я хочу заказать пиццу.", WED_11, "Могу соединить вас со специалистом"),
        ("en", "I'd like to order a pizza.", WED_11, "put you through to the sales department"),
        # closed: only a message
        ("ru", "Пока не знаю, что спросить", WED_20, "Хотите, я запишу сообщение"),
        ("en", "Can you fix my car?", WED_20, "Would you like me to take a message"),
    ],
)
def test_unanswerable_becomes_an_offer(
    persona: Persona, lang: str, text: str, when: dt.datetime, offer: str
) -> None:
    reply = talk(persona, lang, when).reply(text)
    assert reply.intent == "unknown" and not reply.end_call
    assert reply.text.startswith(
        "К сожалению, на этот вопрос я ответить не могу." if lang == "ru"
        else "I'm afraid I can't answer that."
    )
    assert offer in reply.text
    assert reply.transfer is None and reply.message is None


@pytest.mark.parametrize(
    "text", ["", "   ", "...", "Продолжение следует...", "Субтитры сделал DimaTorzok"]
)
def test_not_understood(persona: Persona, text: str) -> None:
    reply = talk(persona, "ru").reply(text)
    assert reply.intent == "not_understood" and not reply.end_call
    assert reply.text == persona.text("not_understood", "ru")


def test_real_clock_by_default(persona: Persona) -> None:
    """Without an injected clock the persona's time zone is used; the answer is one of the
    two possible ones for the moment."""
    text = Dialogue(persona, "en").reply("Are you open now?").text
    assert text.startswith(("Yes, we are open now", "We are closed now", "Today we are closed",
                            "Today we are closed for"))
