"""Scripted multi-turn conversations: taking a message, transfers, failed transfers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ari_app.mind.dialogue import Dialogue, Reply, TransferRequest
from ari_app.mind.persona import Persona, load_persona

PERSONA_PATH = Path(__file__).resolve().parents[2] / "config" / "personas" / "default.yaml"
MSK = ZoneInfo("Europe/Moscow")
WED_11 = dt.datetime(2026, 4, 29, 11, 0, tzinfo=MSK)
WED_20 = dt.datetime(2026, 4, 29, 20, 0, tzinfo=MSK)
FRI_12 = dt.datetime(2026, 5, 8, 12, 0, tzinfo=MSK)  # a working Friday; accounting is out


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona(PERSONA_PATH)


def script(d: Dialogue, turns: list[tuple[str, str]]) -> list[Reply]:
    """Play caller lines; each expected text must be contained in the secretary's reply."""
    replies = []
    for said, expected in turns:
        reply = d.reply(said)
        assert expected in reply.text, (said, reply)
        replies.append(reply)
    return replies


def test_message_with_caller_id_ru(persona: Persona) -> None:
    d = Dialogue(persona, "ru", caller_id="+79161112233", now=lambda: WED_11)
    replies = script(d, [
        ("Я хочу оставить сообщение", "Хорошо, я запишу сообщение. Как вас зовут?"),
        ("Меня зовут Пётр Сидоров", "Перезвонить на номер, с которого вы звоните?"),
        ("Да", "Что передать?"),
        ("Насчёт свадебного оформления", "Это срочно?"),
        ("Нет", "Проверим: имя — Пётр Сидоров; номер — плюс семь, девять один шесть, один "
                "один один, два два, три три; сообщение — насчёт свадебного оформления. "
                "Всё верно?"),
        ("Да, всё верно", "Спасибо, я всё записала и передам. Вам перезвонят."),
    ])
    assert [r.intent for r in replies] == ["message"] * 5 + ["message_taken"]
    assert all(r.message is None for r in replies[:-1])
    message = replies[-1].message
    assert message is not None
    assert message.name == "Пётр Сидоров"
    assert message.callback_number == "+79161112233"
    assert message.reason == "Насчёт свадебного оформления"
    assert message.urgency == "normal"
    assert message.caller_id == "+79161112233"
    assert message.language == "ru" and message.recipient is None
    assert not replies[-1].end_call
    assert d.reply("Нет, спасибо, до свидания").end_call


def test_message_dictated_number_read_back_and_corrected_ru(persona: Persona) -> None:
    d = Dialogue(persona, "ru", caller_id="100", now=lambda: WED_11)  # an extension: no offer
    replies = script(d, [
        ("Передайте, пожалуйста, сообщение", "Как вас зовут?"),
        ("Анна", "По какому номеру вам перезвонить?"),
        ("Восемь девятьсот шестнадцать", "Да, продолжайте."),
        ("сто двадцать три сорок пять шестьдесят семь",
         "Записала номер: восемь, девять один шесть, один два три, четыре пять, шесть семь. "
         "Верно?"),
        ("Нет", "продиктуйте номер ещё раз"),
        ("8 916 765-43-21",
         "Записала номер: восемь, девять один шесть, семь шесть пять, четыре три, два один."),
        ("Да", "Что передать?"),
        ("Срочно перезвоните по заказу", "Проверим: имя — Анна; номер — восемь, девять один "
                                         "шесть, семь шесть пять, четыре три, два один; "
                                         "сообщение — срочно перезвоните по заказу; срочно."),
        ("Нет, имя неправильное", "Как вас зовут?"),
        ("Анна Иванова", "Проверим: имя — Анна Иванова;"),
        ("да", "передам как срочное"),
    ])
    message = replies[-1].message
    assert message is not None
    assert (message.name, message.callback_number, message.urgency) == (
        "Анна Иванова", "89167654321", "urgent"
    )
    assert message.caller_id == "100"


def test_message_number_problems_en(persona: Persona) -> None:
    d = Dialogue(persona, "en", now=lambda: WED_11)
    script(d, [
        ("Can I leave a message?", "Certainly, I'll take a message. May I have your name"),
        ("My name is John Smith", "What number should we call you back on?"),
        ("I don't know", "I didn't get the number"),
        ("one two three four five six seven eight nine zero one two three four five six",
         "too long"),
        ("five five five one two three four", "I have five five five, one two, three four. "
                                              "Is that right?"),
        ("yes", "What is the message?"),
    ])


def test_message_number_keyed_on_the_phone(persona: Persona) -> None:
    d = Dialogue(persona, "en", now=lambda: WED_11)
    script(d, [("Please take a message", "name"), ("This is Kate", "What number")])
    assert [d.on_dtmf(k) for k in "8916*"] == [None] * 5  # * starts over
    assert [d.on_dtmf(k) for k in "84951234567"] == [None] * 11
    reply = d.on_dtmf("#")
    assert reply is not None and reply.intent == "message"
    assert reply.text == ("I have eight, four nine five, one two three, four five, six seven. "
                          "Is that right?")
    assert ("caller", "DTMF #") in d.history and d.history[-1] == ("secretary", reply.text)
    assert Dialogue(persona, "en").on_dtmf("5") is None  # no form: the key is not ours


def test_goodbye_cancel_noise_and_silence_inside_the_form(persona: Persona) -> None:
    d = Dialogue(persona, "ru", now=lambda: WED_11)
    script(d, [("Запишите сообщение", "Как вас зовут?")])
    assert d.reply("Продолжение следует...").text.endswith("Как вас зовут?")
    assert d.reprompt() == "Алло! Вы меня слышите? Как вас зовут?"
    reply = d.reply("не надо")
    assert reply.intent == "message_cancelled" and reply.message is None

    d = Dialogue(persona, "ru", now=lambda: WED_11)
    script(d, [("Запишите сообщение", "Как вас зовут?"), ("Олег", "номеру")])
    bye = d.reply("Ой, всё, до свидания")
    assert bye.end_call and bye.intent == "goodbye"
    assert bye.message is not None and bye.message.name == "Олег"  # what was gathered
    assert bye.message.callback_number is None


def test_transfer_by_name_attended_en(persona: Persona) -> None:
    d = Dialogue(persona, "en", caller_id="+79161112233", now=lambda: WED_11)
    ask, done = script(d, [
        ("Can I speak to Maria Smirnova, please?", "Who shall I say is calling?"),
        ("This is John Smith", "One moment, I'm putting you through to Maria Smirnova."),
    ])
    assert ask.intent == "transfer_ask_name" and ask.transfer is None
    assert done.intent == "transfer"
    request = done.transfer
    assert request is not None
    assert (request.target, request.mode, request.department) == ("202", "attended", "accounting")
    assert request.staff_name == "Мария Смирнова"  # in her language (the persona's first)
    assert request.language == "ru"
    assert request.announcement.startswith("Вам звонит John Smith, номер плюс семь, девять")
    assert "Can I speak to Maria Smirnova" in request.announcement


@pytest.mark.parametrize(
    ("text", "target", "department"),
    [
        ("Соедините меня с отделом продаж", "sales", "sales"),
        ("Переключите на бухгалтерию, пожалуйста", "accounting", "accounting"),
        ("Можно поговорить с Иваном Петровым?", "201", "sales"),
        ("Ивана Петрова, пожалуйста", "201", "sales"),
    ],
)
def test_transfer_by_department_or_name_ru(
    persona: Persona, text: str, target: str, department: str
) -> None:
    d = Dialogue(persona, "ru", now=lambda: WED_11)
    _, done = script(d, [(text, "Как вас представить?"), ("Пётр", "Одну минуту, соединяю.")])
    assert done.transfer is not None
    assert (done.transfer.target, done.transfer.department) == (target, department)
    assert done.transfer.announcement.startswith("Вам звонит Пётр.")


def test_blind_transfer_asks_nothing(persona: Persona) -> None:
    blind = persona.model_copy(
        update={"transfer": persona.transfer.model_copy(update={"mode": "blind"})}
    )
    reply = Dialogue(blind, "ru", now=lambda: WED_11).reply("Соедините с отделом продаж")
    assert reply.intent == "transfer" and reply.transfer is not None
    assert reply.transfer.mode == "blind" and reply.transfer.target == "sales"
    assert reply.transfer.announcement.startswith("Вам звонит клиент.")


def test_transfer_out_of_hours_offers_a_message(persona: Persona) -> None:
    d = Dialogue(persona, "ru", now=lambda: FRI_12)
    offer, start = script(d, [
        ("Соедините с бухгалтерией",
         "Бухгалтерия сейчас не на месте. Бухгалтерия работает с понедельника по четверг с "
         "десяти до семнадцати, с пятницы по воскресенье выходной. Хотите, я запишу "
         "сообщение, и бухгалтерия вам перезвонит?"),
        ("Да, давайте", "Хорошо, я запишу сообщение. Как вас зовут?"),
    ])
    assert offer.intent == "transfer_unavailable" and offer.transfer is None
    assert start.intent == "message"
    script(d, [("Илья", "номеру"), ("89161234567", "Верно?"), ("да", "Что передать?"),
               ("Нужен акт сверки", "срочно"), ("нет", "Всё верно?")])
    message = d.reply("да").message
    assert message is not None and message.recipient == "бухгалтерия"

    en = Dialogue(persona, "en", now=lambda: WED_20)
    reply = en.reply("Could you put me through to Ivan Petrov?")
    assert reply.intent == "transfer_unavailable"
    assert reply.text == (
        "Ivan Petrov is not available right now. Ivan Petrov works Monday to Thursday from "
        "nine a.m. to six p.m., Friday from nine a.m. to five p.m., Saturday and Sunday "
        "closed. Would you like me to take a message for Ivan Petrov?"
    )
    assert en.reply("No, thanks").intent == "offer_declined"


def test_transfer_refused_by_the_rules_then_message(persona: Persona) -> None:
    d = Dialogue(persona, "ru", now=lambda: WED_11)
    refused, start = script(d, [
        ("Соедините меня с директором", "Напрямую соединить не могу"),
        ("да", "Как вас зовут?"),
    ])
    assert refused.intent == "transfer_refused" and refused.transfer is None
    assert "Олег Кузнецов вам перезвонит" in refused.text
    assert start.intent == "message"


def test_unknown_person(persona: Persona) -> None:
    reply = Dialogue(persona, "en", now=lambda: WED_11).reply("Connect me to Mister Nobody")
    assert reply.intent == "offer_message" and reply.transfer is None
    assert reply.text.startswith("I'm sorry, I couldn't find that person or department.")


@pytest.mark.parametrize(
    ("lang", "reason", "expected"),
    [
        ("ru", "busy", "К сожалению, линия занята. Хотите, я запишу сообщение, и Мария "
                       "Смирнова вам перезвонит?"),
        ("ru", "no_answer", "К сожалению, никто не ответил."),
        ("en", "declined", "I'm sorry, they can't take your call right now. Would you like me "
                           "to take a message for Maria Smirnova?"),
        ("en", "failed", "I'm sorry, I couldn't connect you."),
    ],
)
def test_transfer_failed_offers_a_message(
    persona: Persona, lang: str, reason: str, expected: str
) -> None:
    d = Dialogue(persona, lang, now=lambda: WED_11)
    request = TransferRequest("202", "attended", "Мария Смирнова", "accounting", "...")
    reply = d.transfer_failed(request, reason)  # type: ignore[arg-type]
    assert reply.intent == "transfer_failed" and not reply.end_call
    assert reply.text.startswith(expected)
    start = d.reply("да" if lang == "ru" else "yes")
    assert start.intent == "message"
    assert d.history[-2:] == [("caller", "да" if lang == "ru" else "yes"),
                              ("secretary", start.text)]


def test_unanswerable_then_choose_transfer_or_message(persona: Persona) -> None:
    d = Dialogue(persona, "ru", now=lambda: WED_11)
    script(d, [("Вы чините телефоны?", "Могу соединить вас со специалистом"),
               ("Соедините", "Как вас представить?")])
    assert d.reply("Ольга").transfer is not None

    d = Dialogue(persona, "ru", now=lambda: WED_11)
    script(d, [("Вы чините телефоны?", "или записать сообщение"),
               ("да", "соединить или записать сообщение?"),
               ("Лучше запишите сообщение", "Как вас зовут?")])
    assert d._form is not None and d._form.recipient == "отдел продаж"


def test_offer_ignored_when_the_caller_moves_on(persona: Persona) -> None:
    d = Dialogue(persona, "ru", now=lambda: WED_20)
    script(d, [("Вы чините телефоны?", "Хотите, я запишу сообщение")])
    reply = d.reply("А сколько стоит доставка?")
    assert reply.intent == "price"


def test_attended_transfer_without_asking_the_name(persona: Persona) -> None:
    quiet = persona.model_copy(
        update={"transfer": persona.transfer.model_copy(update={"ask_name": False})}
    )
    reply = Dialogue(quiet, "ru", caller_id="89161234567", now=lambda: WED_11).reply(
        "Соедините меня, пожалуйста, с бухгалтерией."
    )
    assert reply.intent == "transfer" and reply.transfer is not None
    assert reply.transfer.mode == "attended" and reply.transfer.target == "accounting"
    assert reply.transfer.announcement.startswith("Вам звонит клиент, номер восемь, девять")


def test_the_mind_says_when_it_awaits_a_number(persona: Persona) -> None:
    d = Dialogue(persona, "en", now=lambda: WED_11)
    assert not d.awaits_number()
    d.reply("Can I leave a message?")
    assert not d.awaits_number()  # it asked for the name
    d.reply("My name is John Smith")
    assert d.awaits_number()
    d.reply("I don't know")
    assert d.awaits_number()  # asked again
    d.reply("five five five one two three four")
    assert not d.awaits_number()  # read back: a yes or no now


def test_a_message_cut_off_before_it_was_confirmed_keeps_what_was_gathered(
    persona: Persona,
) -> None:
    d = Dialogue(persona, "ru", caller_id="100", now=lambda: WED_11)
    assert d.unfinished() is None  # no message begun
    script(d, [
        ("Передайте, пожалуйста, сообщение", "Как вас зовут?"),
        ("Анна Петрова", "По какому номеру вам перезвонить?"),
        ("восемь девять два шесть два ноль ноль четыре семь один восемь",
         "Верно?"),
    ])
    # the line drops while the number is read back: it is kept, unconfirmed as it is
    message = d.unfinished()
    assert message is not None
    assert (message.name, message.callback_number) == ("Анна Петрова", "89262004718")
    assert message.reason is None and message.language == "ru"
    assert message.confirmed is False  # the staff are told to check the number
    assert d.unfinished() is None  # handed on once


def test_a_message_with_nothing_gathered_yet_is_not_kept(persona: Persona) -> None:
    d = Dialogue(persona, "en", now=lambda: WED_11)
    d.reply("Can I leave a message?")
    assert d.unfinished() is None
    d2 = Dialogue(persona, "en", now=lambda: WED_11)
    d2.reply("Can I leave a message?")
    d2.reply("My name is John Smith")
    d2.reply("I don't know")  # asked for the number again: the name is kept
    message = d2.unfinished()
    assert message is not None and message.name == "John Smith"
    assert message.callback_number is None
