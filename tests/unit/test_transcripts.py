"""testkit/transcripts.py: how the benchmarks and tests score a transcript against its
reference."""

from __future__ import annotations

import pytest

from testkit.transcripts import edits, holds_all, words


def test_words_are_lower_case_letters_and_digits_with_number_words_as_digits() -> None:
    assert words("Ёлки, ПЯТЬ раз!") == ["елки", "5", "раз"]


def test_edit_distance_counts_words() -> None:
    assert edits(["a", "b", "c"], ["a", "x", "c", "d"]) == 2


@pytest.mark.parametrize(("reference", "text", "held"), [
    ("Спасибо, до свидания.", "спасибо до свиданья", True),  # endings differ
    ("Goodbye.", "Good bye.", True),  # one word written apart
    ("Good bye.", "Goodbye.", False),  # two words heard as one: "bye" was not heard apart
    ("Hello world.", "Hi my world!", False),
    ("Здравствуй, мир.", "Здравствуй, Миш!", False),
    ("Пять минут", "5 минут", True),
])
def test_holds_all(reference: str, text: str, held: bool) -> None:
    assert holds_all(reference, text) is held
