"""split_sentences: Russian and English, abbreviations, merging, no empty strings."""

import pytest

from ari_app.tts.text import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Здравствуйте! Мы работаем с девяти до шести. Чем могу помочь?",
            ["Здравствуйте!", "Мы работаем с девяти до шести.", "Чем могу помочь?"],
        ),
        (
            "Мы открыты в будни, т.е. с понедельника по пятницу. Звоните заранее.",
            ["Мы открыты в будни, т.е. с понедельника по пятницу.", "Звоните заранее."],
        ),
        (
            "Наш офис: г. Москва, ул. Ленина, д. 5. Приходите к десяти.",
            ["Наш офис: г. Москва, ул. Ленина, д. 5.", "Приходите к десяти."],
        ),
        (
            "Мы продаём столы, стулья и т.д. Потом обсудим цены.",
            ["Мы продаём столы, стулья и т.д.", "Потом обсудим цены."],
        ),
        (
            "Книгу написал А. С. Пушкин. Она очень известна.",
            ["Книгу написал А. С. Пушкин.", "Она очень известна."],
        ),
        ("Подождите… Сейчас проверю расписание.", ["Подождите…", "Сейчас проверю расписание."]),
        (
            "Hello, this is Mr. Smith's office. How can I help you today?",
            ["Hello, this is Mr. Smith's office.", "How can I help you today?"],
        ),
        (
            "Dr. Brown is out until Monday! Please call back, e.g. after lunch.",
            ["Dr. Brown is out until Monday!", "Please call back, e.g. after lunch."],
        ),
        (
            "We open at 9 a.m. sharp. The price is 3.50 dollars.",
            ["We open at 9 a.m. sharp.", "The price is 3.50 dollars."],
        ),
        ('He said "Wait!" Then he left.', ['He said "Wait!"', "Then he left."]),
        ("Really?! Yes, really.", ["Really?!", "Yes, really."]),
        ("No full stop at the end", ["No full stop at the end"]),
    ],
)
def test_split(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_newlines_split_and_whitespace_is_collapsed() -> None:
    text = "Первая строка без точки\n\n   вторая   строка\tтоже\nThird line here"
    assert split_sentences(text) == [
        "Первая строка без точки",
        "вторая строка тоже",
        "Third line here",
    ]


def test_short_fragments_are_merged() -> None:
    assert split_sentences("Да. Мы работаем с девяти.") == ["Да. Мы работаем с девяти."]
    assert split_sentences("Hi! OK. Thanks for calling us.") == ["Hi! OK. Thanks for calling us."]
    # A short tail joins the sentence before it.
    assert split_sentences("Thanks for calling us today. Bye.") == [
        "Thanks for calling us today. Bye."
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "...", "!?", " . . . "])
def test_nothing_to_say_gives_empty_list(text: str) -> None:
    assert split_sentences(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "А. Б. В. Г. Д.",
        "Ok.\n\nOk.\n. . .\nЯ.",
        "Это — тест!!! А это?.. Да…",
        "x" * 500 + ". " + "y",
    ],
)
def test_never_returns_empty_strings(text: str) -> None:
    result = split_sentences(text)
    assert result
    assert all(s.strip() == s and s for s in result)
    # Nothing is lost: every letter of the input is still there, in order.
    assert "".join(ch for ch in "".join(result) if ch.isalnum()) == "".join(
        ch for ch in text if ch.isalnum()
    )
