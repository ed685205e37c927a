import pytest

from ari_app.mind.intents import only_greeting
from ari_app.turn.rules import (
    asks_in_full,
    ends_mid_number,
    ends_mid_phrase,
    says_all,
    says_goodbye,
    trailing_digit_run,
)


@pytest.mark.parametrize(
    ("text", "run"),
    [
        ("Запишите мой номер: 8 916", 2),
        ("Запишите мой номер: восемь девятьсот шестнадцать.", 3),
        ("My number is 555-01", 2),
        ("my number is five five five", 3),
        ("Какие у вас часы работы?", 0),
        ("Спасибо, до свидания!", 0),
        ("", 0),
        ("Позвоните мне в 5 часов", 0),
    ],
)
def test_trailing_digit_run(text: str, run: int) -> None:
    assert trailing_digit_run(text) == run


def test_ends_mid_number() -> None:
    assert ends_mid_number("номер восемь девятьсот")
    assert not ends_mid_number("номер восемь девятьсот, спасибо")


@pytest.mark.parametrize(
    ("text", "goes_on"),
    [
        ("Скажите, а в", True),
        ("Я хотел бы узнать, когда вы", False),
        ("Подскажите, пожалуйста, и", True),
        ("I'd like to", True),
        ("Could you tell me the", True),
        ("Здравствуйте!", False),
        ("Здравствуйте, подскажите.", True),
        ("Could you tell", True),
        ("Какие у вас часы работы?", False),
        ("Hello.", False),
        ("Меня зовут Иван,", True),
        ("Which folder should I save this message to?", False),
        ("", False),
    ],
)
def test_ends_mid_phrase(text: str, goes_on: bool) -> None:
    assert ends_mid_phrase(text) is goes_on


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("Скажите, а в субботу вы работаете?", True),
        ("Which folder should I save the message to?  ", True),
        ("Вы работаете в субботу.", False),  # said, not asked
        ("Скажите, а в", False),
        ("Мой номер 8 916?", False),  # a number read back with a rise: more may come
        ("", False),
    ],
)
def test_asks_in_full(text: str, asks: bool) -> None:
    assert asks_in_full(text) is asks


@pytest.mark.parametrize(
    ("text", "language", "bye"),
    [
        ("Спасибо, до свидания!", "ru", True),
        ("Всего доброго.", "ru", True),
        ("Ну всё, пока.", "ru", True),
        ("Thank you. Goodbye.", "en", True),
        ("No, thank you. Goodbye!", "en", True),
        ("Спасибо большое.", "ru", False),  # thanks may come before a question
        ("Thank you.", "en", False),
        ("До свидания. Благодарим за звонок в нашу", "ru", False),  # words after the farewell
        ("Спасибо, до свидания, и ещё", "ru", False),  # goes on
        ("Здравствуйте!", "ru", False),
        ("", "ru", False),
    ],
)
def test_says_goodbye(text: str, language: str, bye: bool) -> None:
    assert says_goodbye(text, language) is bye


@pytest.mark.parametrize(
    ("text", "done"),
    [("Вы работаете в субботу?", True), ("Спасибо, до свидания!", True),
     ("Запишите мой номер 8 916", False), ("Скажите, а в", False)],
)
def test_says_all(text: str, done: bool) -> None:
    assert says_all(text, "ru") is done


@pytest.mark.parametrize(
    ("text", "greets"),
    [("Здравствуйте!", True), ("Добрый день.", True), ("Алло? Алло?", True),
     ("Hello?", True), ("Good afternoon.", True),
     ("Здравствуйте, подскажите, пожалуйста, часы работы?", False),
     ("Hello, I'd like to leave a message.", False), ("", False)],
)
def test_only_greeting(text: str, greets: bool) -> None:
    assert only_greeting(text) is greets
