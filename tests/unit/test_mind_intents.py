"""Generic cues in the caller's words: yes/no, goodbye, and what an hours question asks."""

from __future__ import annotations

import datetime as dt

import pytest

from ari_app.mind.intents import (
    HoursQuestion,
    hours_question,
    is_cancel,
    is_goodbye,
    wants_transfer,
    yes_no,
)

WED = dt.date(2026, 4, 29)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Да", True), ("да, верно", True), ("Конечно", True), ("yes please", True),
        ("Yeah, that's right", True), ("Нет", False), ("нет, неправильно", False),
        ("No", False), ("не верно", False), ("может быть", None), ("", None),
        ("да нет", None),
    ],
)
def test_yes_no(text: str, answer: bool | None) -> None:
    assert yes_no(text) is answer


def test_goodbye_and_cancel() -> None:
    assert is_goodbye("Спасибо большое", "ru")
    assert not is_goodbye("Спасибо большое", "ru", thanks=False)
    assert is_goodbye("ну всё, пока", "ru") and not is_goodbye("пока не знаю", "ru")
    assert is_goodbye("bye", "ru")  # the other language's words count too
    assert is_cancel("Нет, не надо") and not is_cancel("Нет, не надо", strict=True)
    assert is_cancel("Отмена", strict=True) and is_cancel("never mind")


def test_transfer_cue_is_not_fooled_by_weekdays() -> None:
    assert wants_transfer("Put me through to sales", "en")
    assert not wants_transfer("Are you open Monday through Friday?", "en")


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("Вы работаете в субботу?", HoursQuestion("day", dt.date(2026, 5, 2))),
        ("А в среду?", HoursQuestion("day", WED)),
        ("во вторник открыто?", HoursQuestion("day", dt.date(2026, 5, 5))),
        ("Завтра работаете?", HoursQuestion("tomorrow", dt.date(2026, 4, 30))),
        ("Вы сейчас открыты?", HoursQuestion("now")),
        ("Are you still open?", HoursQuestion("now")),
        ("До скольки вы сегодня?", HoursQuestion("today", WED)),
        ("until when are you open today", HoursQuestion("today", WED)),
        ("Вы работаете девятнадцатого мая?", HoursQuestion("date", dt.date(2026, 5, 19))),
        ("а двадцать пятого декабря?", HoursQuestion("date", dt.date(2026, 12, 25))),
        ("открыты 3 января?", HoursQuestion("date", dt.date(2027, 1, 3))),
        ("Are you open on the first of May?", HoursQuestion("date", dt.date(2026, 5, 1))),
        ("open on May 9th?", HoursQuestion("date", dt.date(2026, 5, 9))),
        ("В праздники работаете?", HoursQuestion("holidays")),
        ("Какой у вас график?", HoursQuestion("week")),
        ("May I ask your hours?", HoursQuestion("week")),
    ],
)
def test_hours_question(text: str, question: HoursQuestion) -> None:
    assert hours_question(text, WED) == question
