"""The Message built from LLM tool arguments, and names from what the caller said."""

from __future__ import annotations

from typing import Any

import pytest

from ari_app.mind.message import Message, extract_name


def test_from_tool_args() -> None:
    message = Message.from_tool_args({
        "name": "Пётр", "callback_number": "восемь девятьсот шестнадцать 123 45 67",
        "reason": "Заказ на свадьбу", "urgency": "urgent", "caller_id": "+79160000000",
        "language": "ru", "recipient": "Иван Петров",
    })
    assert message == Message("Пётр", "89161234567", "Заказ на свадьбу", "urgent",
                              "+79160000000", "ru", "Иван Петров")
    minimal = Message.from_tool_args({"reason": "call back", "language": "en"})
    assert (minimal.name, minimal.callback_number, minimal.urgency) == (None, None, "normal")
    assert Message.from_tool_args({"name": "Kim", "urgency": True}).urgency == "urgent"
    assert Message.from_tool_args({"callback_number": "+7 916 123 45 67"}).callback_number == (
        "+79161234567"
    )


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"callback_number": "12-34"}, "callback_number: '12-34' is not a phone number"),
        ({"name": "A", "urgency": "high"}, "urgency: expected 'normal' or 'urgent'"),
        ({"name": "A", "language": "de"}, "language: expected 'ru' or 'en'"),
        ({"name": "A", "mood": "angry"}, "unknown argument(s): mood"),
        ({"name": ["A"]}, "name: expected text"),
        ({"name": " ", "reason": ""}, "needs at least a name, a callback number or a reason"),
    ],
)
def test_from_tool_args_rejects(args: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError) as info:
        Message.from_tool_args(args)
    assert problem in str(info.value)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Меня зовут Пётр Сидоров.", "Пётр Сидоров"),
        ("Это Анна-Мария, спасибо", "Анна-Мария"),
        ("Ольга", "Ольга"),
        ("My name is John Smith", "John Smith"),
        ("This is kate", "Kate"),
        ("I'm Bob", "Bob"),
        ("да", None),
        ("", None),
        ("я не хочу говорить как меня зовут вообще", None),
    ],
)
def test_extract_name(text: str, name: str | None) -> None:
    assert extract_name(text) == name
