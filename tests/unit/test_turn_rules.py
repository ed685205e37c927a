import pytest

from ari_app.turn.rules import ends_mid_number, ends_mid_phrase, trailing_digit_run


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
        ("Мой номер 8 916 123 45", True),
        ("Мой номер 8 916 123 45 67.", False),  # eleven digits: a whole Russian number
        ("8-9-1-6-1-2-3-4-5-6", True),  # ten, one by one, from the trunk prefix: one more
        ("восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь", False),
        ("916 123 45 67", False),  # a mobile number from its code
        ("123 45 67", True),  # a city number; its area code may follow
        ("2, 1, 2, 5, 5, 5, 0, 1, 4, 7.", False),  # a North American number
        ("1 212 555 01 4", True),
        ("Extension 2047", True),
        ("8-9-1-6-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1", True),  # a decoder loop, not a number
    ],
)
def test_a_whole_phone_number_is_not_waited_on(text: str, goes_on: bool) -> None:
    assert ends_mid_number(text) is goes_on


@pytest.mark.parametrize(
    ("text", "goes_on"),
    [
        ("Скажите, а в", True),
        ("Я хотел бы узнать, когда вы", False),
        ("Подскажите, пожалуйста, и", True),
        ("I'd like to", True),
        ("Could you tell me the", True),
        ("Здравствуйте!", False),
        ("Какие у вас часы работы?", False),
        ("Hello.", False),
        ("Меня зовут Иван,", True),
        ("Which folder should I save this message to?", False),
        ("", False),
    ],
)
def test_ends_mid_phrase(text: str, goes_on: bool) -> None:
    assert ends_mid_phrase(text) is goes_on
