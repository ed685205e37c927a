"""Numbers, money and dates as words."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ari_app.mind.words import cardinal, date_words, money_words, plural_ru, tidy


@pytest.mark.parametrize(
    ("n", "lang", "words"),
    [
        (0, "ru", "ноль"),
        (21, "ru", "двадцать один"),
        (112, "ru", "сто двенадцать"),
        (2500, "ru", "две тысячи пятьсот"),
        (1001, "ru", "одна тысяча один"),
        (11000, "ru", "одиннадцать тысяч"),
        (999_999, "ru", "девятьсот девяносто девять тысяч девятьсот девяносто девять"),
        (21, "en", "twenty-one"),
        (3500, "en", "three thousand five hundred"),
        (110, "en", "one hundred ten"),
    ],
)
def test_cardinal(n: int, lang: str, words: str) -> None:
    assert cardinal(n, lang) == words


def test_cardinal_range() -> None:
    with pytest.raises(ValueError):
        cardinal(1_000_000, "ru")


@pytest.mark.parametrize(
    ("amount", "currency", "lang", "words"),
    [
        (1, "RUB", "ru", "один рубль"),
        (2, "RUB", "ru", "два рубля"),
        (5, "RUB", "ru", "пять рублей"),
        (11, "RUB", "ru", "одиннадцать рублей"),
        (21, "RUB", "ru", "двадцать один рубль"),
        (3500, "RUB", "ru", "три тысячи пятьсот рублей"),
        (2, "EUR", "ru", "два евро"),
        (1, "USD", "en", "one dollar"),
        (500, "RUB", "en", "five hundred roubles"),
    ],
)
def test_money(amount: int, currency: str, lang: str, words: str) -> None:
    assert money_words(amount, currency, lang) == words


def test_plural_ru() -> None:
    forms = ("час", "часа", "часов")
    assert [plural_ru(n, *forms) for n in (1, 3, 5, 12, 22, 101, 111)] == [
        "час", "часа", "часов", "часов", "часа", "час", "часов"
    ]


@pytest.mark.parametrize(
    ("day", "lang", "case", "words"),
    [
        (dt.date(2026, 5, 1), "ru", "gen", "первого мая"),
        (dt.date(2026, 5, 1), "ru", "nom", "первое мая"),
        (dt.date(2026, 3, 3), "ru", "nom", "третье марта"),
        (dt.date(2026, 3, 23), "ru", "gen", "двадцать третьего марта"),
        (dt.date(2026, 12, 30), "ru", "gen", "тридцатого декабря"),
        (dt.date(2026, 12, 31), "ru", "nom", "тридцать первое декабря"),
        (dt.date(2026, 11, 4), "ru", "nom", "четвёртое ноября"),
        (dt.date(2026, 1, 22), "en", "gen", "January twenty-second"),
        (dt.date(2026, 1, 30), "en", "gen", "January thirtieth"),
        (dt.date(2026, 6, 12), "en", "gen", "June twelfth"),
    ],
)
def test_date_words(day: dt.date, lang: str, case: str, words: str) -> None:
    assert date_words(day, lang, case) == words  # type: ignore[arg-type]


def test_every_date_is_words() -> None:
    day = dt.date(2028, 1, 1)
    while day.year == 2028:
        for lang in ("ru", "en"):
            assert not re.search(r"\d", date_words(day, lang))
        day += dt.timedelta(days=1)


def test_tidy() -> None:
    assert tidy("until six p.m..") == "until six p.m."
    assert tidy("Wait...") == "Wait..."
