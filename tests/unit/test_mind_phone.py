"""Phone numbers from Whisper's words and digits, and their digit-by-digit read-back."""

from __future__ import annotations

import pytest

from ari_app.mind.phone import PhoneNumber, extract_digits, parse_phone, phone_problem


@pytest.mark.parametrize(
    ("text", "digits", "plus"),
    [
        ("восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь",
         "89161234567", False),
        ("Мой номер: 8-916-123-45-67.", "89161234567", False),
        ("+7 916 123 45 67", "79161234567", True),
        ("плюс семь девятьсот шестнадцать 123 45 67", "79161234567", True),
        ("восемь девять один шесть ноль ноль один два два три три", "89160012233", False),
        ("сто пять", "105", False),
        ("двадцать двадцать", "2020", False),
        ("nine hundred sixteen double five oh one two", "91655012", False),
        ("my number is five five five one two three four", "5551234", False),
        ("triple seven", "777", False),
        ("это Ольга", "", False),
        # Whisper on human speech writes "двадцать восемь" as "20 8", "eighty four" as "80, 4"
        ("8 4 9 5 7 3 9 20 8 0 6", "84957392806", False),
        ("6, 1, 7, 3, 9, 2, 80, 4, 60, 6.", "6173928466", False),
        ("двадцать 8", "28", False),
        # ... and "девятьсот шестнадцать" as "900 16", "сто двадцать три" as "100 23" or "120 3"
        ("8 900 16 100 23 45 67", "89161234567", False),
        ("8 916 120 3 40 5 60 7", "89161234567", False),
        ("8 900 20 3", "8923", False),
        ("900 1", "901", False),
        # a group of three after a round hundred is a group of its own: 8 900 123 45 67
        ("8 900 123 45 67", "89001234567", False),
        ("900 120", "900120", False),
        ("100 0 5", "10005", False),
        # a zero, a second round ten or a digit dictated alone are not a group's units
        ("2 0 8", "208", False),
        ("20 0 8", "2008", False),
        ("30 30", "3030", False),
    ],
)
def test_extract_digits(text: str, digits: str, plus: bool) -> None:
    assert extract_digits(text) == (digits, plus)


def test_parse_phone_and_problems() -> None:
    assert parse_phone("8 916 123 45 67") == PhoneNumber("89161234567")
    assert parse_phone("восемь девятьсот шестнадцать") is None
    assert phone_problem("восемь девятьсот шестнадцать") == "too_short"
    assert phone_problem("1" * 16) == "too_long"
    assert phone_problem("не помню") == "none"
    assert phone_problem("123-45-67") is None
    assert str(PhoneNumber("79161234567", plus=True)) == "+79161234567"


@pytest.mark.parametrize(
    ("number", "lang", "spoken"),
    [
        (PhoneNumber("89161234567"), "ru",
         "восемь, девять один шесть, один два три, четыре пять, шесть семь"),
        (PhoneNumber("79161234567", plus=True), "en",
         "plus seven, nine one six, one two three, four five, six seven"),
        (PhoneNumber("4951234567"), "ru", "четыре девять пять, один два три, четыре пять, "
                                          "шесть семь"),
        (PhoneNumber("1234567"), "en", "one two three, four five, six seven"),
        (PhoneNumber("441234567890"), "en",
         "four four one, two three four, five six seven, eight nine zero"),
    ],
)
def test_read_back_digit_by_digit(number: PhoneNumber, lang: str, spoken: str) -> None:
    assert number.spoken(lang) == spoken
    said = "".join(ch for ch in number.spoken(lang) if ch.isdigit())
    assert said == ""  # words only, for the TTS
    assert extract_digits(number.spoken(lang))[0] == number.digits  # and it parses back
