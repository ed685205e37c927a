"""The LLM path of the dialogue with scripted fake providers: tool calls become the same
actions the rules produce, the rules keep their open questions, and a chain with no
provider left falls back to the rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from test_llm_chain import FakeProvider, chain

from ari_app.llm.base import LlmError, ToolCall
from ari_app.mind.dialogue import Dialogue, check_hours
from ari_app.mind.llm_dialogue import LlmDialogue, day_of
from ari_app.mind.persona import Personas

PERSONAS = Path(__file__).resolve().parents[2] / "config" / "personas"
TUESDAY_11 = dt.datetime.fromisoformat("2026-11-24T11:00:00+03:00")


def mind(*providers: FakeProvider, caller_id: str | None = "+79161234567") -> LlmDialogue:
    rules = Dialogue(Personas(PERSONAS)("default"), "ru", caller_id=caller_id,
                     now=lambda: TUESDAY_11)
    return LlmDialogue(rules, chain(*providers, filler_after=5.0))


async def say(m: LlmDialogue, text: str) -> tuple[str, object]:
    turn = m.turn(text)
    spoken = "".join([piece async for piece in turn.pieces])
    return spoken, turn.reply


async def test_plain_answer_is_streamed_and_kept_in_history() -> None:
    m = mind(FakeProvider("fake", ["Доставка ", "по городу ", "бесплатная."]))
    m.greeting()
    assert m.wants("Сколько стоит доставка?")
    spoken, reply = await say(m, "Сколько стоит доставка?")
    assert spoken == "Доставка по городу бесплатная."
    assert reply.text == spoken and reply.transfer is None and not reply.end_call  # type: ignore[attr-defined]
    roles = [msg.role for msg in m.messages("ещё вопрос")]
    assert roles == ["system", "assistant", "user", "assistant", "user"]
    assert "Ромашка" in m.system  # the persona's facts are in the prompt


async def test_check_hours_tool_answers_from_the_calendar() -> None:
    call = ToolCall("1", "check_hours", {"day": "saturday"})
    m = mind(FakeProvider("fake", [call]))
    spoken, _reply = await say(m, "Вы работаете в субботу?")
    expected = check_hours(m.rules.persona, "ru", day_of("saturday", TUESDAY_11), now=TUESDAY_11)
    assert spoken.strip() == expected


async def test_transfer_tool_goes_through_the_rules() -> None:
    call = ToolCall("1", "transfer_call", {"target": "бухгалтерия"})
    m = mind(FakeProvider("fake", ["Сейчас.", call]))
    spoken, _reply = await say(m, "Мне нужна бухгалтерия")
    # the persona asks who is calling before an attended transfer: the rules take the next turn
    assert "представить" in spoken
    assert m.rules.mid_task and not m.wants("Алексей Смирнов")
    follow = m.reply("Алексей Смирнов")
    assert follow.transfer is not None and follow.transfer.target == "accounting"


async def test_take_message_tool_with_everything_gives_a_message() -> None:
    call = ToolCall("1", "take_message", {
        "caller_name": "Анна", "callback_number": "8 916 123 45 67", "message": "счёт",
        "urgent": True,
    })
    m = mind(FakeProvider("fake", [call]))
    spoken, reply = await say(m, "Передайте, пожалуйста, что звонила Анна")
    message = reply.message  # type: ignore[attr-defined]
    assert message is not None and message.name == "Анна" and message.urgency == "urgent"
    assert message.callback_number is not None and message.callback_number.endswith("9161234567")
    assert "срочное" in spoken


async def test_take_message_without_a_number_starts_the_form() -> None:
    call = ToolCall("1", "take_message", {"message": "про заказ"})
    m = mind(FakeProvider("fake", [call]), caller_id=None)
    _spoken, reply = await say(m, "Хочу оставить сообщение")
    assert reply.message is None  # type: ignore[attr-defined]
    assert m.rules.mid_task  # the form asks, read-back and all


async def test_end_call_tool_ends_the_call() -> None:
    m = mind(FakeProvider("fake", ["Всего доброго!", ToolCall("1", "end_call", {})]))
    _spoken, reply = await say(m, "У меня всё")
    assert reply.end_call  # type: ignore[attr-defined]


async def test_malformed_tool_call_is_ignored() -> None:
    m = mind(FakeProvider("fake", ["Хорошо.", ToolCall("1", "launch_rocket", {})]))
    spoken, reply = await say(m, "Запустите ракету")
    assert spoken == "Хорошо." and not reply.end_call  # type: ignore[attr-defined]


async def test_no_provider_left_the_rules_answer() -> None:
    m = mind(FakeProvider("dead", [LlmError("dead", "connection refused")]))
    turn = m.turn("Когда вы работаете?")
    spoken = "".join([piece async for piece in turn.pieces])
    assert turn.reply is not None and turn.reply.intent.startswith("hours")
    assert spoken == turn.reply.text and turn.figures.unavailable


def test_goodbye_and_noise_stay_with_the_rules() -> None:
    m = mind(FakeProvider("fake", []))
    assert not m.wants("Спасибо, до свидания!")
    assert not m.wants("Продолжение следует...")
    assert m.wants("А у вас есть розы?")


def test_day_of() -> None:
    assert day_of("now", TUESDAY_11) is None
    assert day_of("tomorrow", TUESDAY_11).date() == dt.date(2026, 11, 25)  # type: ignore[union-attr]
    assert day_of("суббота", TUESDAY_11).date() == dt.date(2026, 11, 28)  # type: ignore[union-attr]
    assert day_of("2026-12-31", TUESDAY_11).date() == dt.date(2026, 12, 31)  # type: ignore[union-attr]
    assert day_of("someday", TUESDAY_11) is None
