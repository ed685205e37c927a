"""The one Mind interface (mind/mind.py): the rules and the rules with a language model
answer a caller's turn through the calls the session makes (answer, speak its words,
heard) and give back a typed Reply; what the caller heard of a reply is what the mind
keeps. The language model is a scripted fake provider (test_llm_chain.FakeProvider)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from test_llm_chain import FakeProvider, chain

from ari_app.llm.base import ToolCall
from ari_app.mind.dialogue import Dialogue
from ari_app.mind.llm_dialogue import LlmDialogue, make_mind
from ari_app.mind.message import Message
from ari_app.mind.mind import Answer, Mind, Reply
from ari_app.mind.persona import Personas
from ari_app.mind.staff import TransferRequest

PERSONAS = Path(__file__).resolve().parents[2] / "config" / "personas"
TUESDAY_11 = dt.datetime.fromisoformat("2026-11-24T11:00:00+03:00")
TAKE_MESSAGE = ToolCall("1", "take_message", {
    "caller_name": "Анна", "callback_number": "8 916 123 45 67", "message": "счёт",
})


def rules() -> Dialogue:
    return Dialogue(Personas(PERSONAS)("default"), "ru", caller_id="+79161234567",
                    now=lambda: TUESDAY_11)


def with_llm(*script: object) -> LlmDialogue:
    return LlmDialogue(rules(), chain(FakeProvider("fake", list(script)), filler_after=5.0))


async def words_of(answer: Answer) -> str:
    """All of the answer's words, as a speaker that played them to the end would."""
    if isinstance(answer.words, str):
        return answer.words
    return "".join([piece async for piece in answer.words])


async def turn(mind: Mind[Any], caller_text: str) -> tuple[Answer, str, Reply]:
    """One turn as the session takes it, heard in full."""
    answer = mind.answer(caller_text)
    words = await words_of(answer)
    return answer, words, mind.heard(answer, words, interrupted=False, failed=False)


def test_both_minds_are_minds() -> None:
    assert isinstance(rules(), Mind)
    assert isinstance(with_llm(), Mind)
    assert isinstance(make_mind(rules(), None), Dialogue)
    assert isinstance(make_mind(rules(), chain(FakeProvider("fake", []))), LlmDialogue)


@pytest.mark.parametrize("kind", ["rules", "llm"])
async def test_a_turn_through_the_protocol_gives_a_typed_reply(kind: str) -> None:
    mind: Mind[Any] = rules() if kind == "rules" else with_llm("Мы работаем до семи.")
    assert mind.greeting()
    answer, words, reply = await turn(mind, "Когда вы работаете?")
    assert isinstance(reply, Reply) and reply.text.strip() == words.strip()
    assert reply.message is None and reply.transfer is None and not reply.end_call
    if kind == "rules":
        assert isinstance(answer.words, str) and answer.intent == reply.intent
        assert reply.intent.startswith("hours")
    else:
        assert not isinstance(answer.words, str) and answer.intent == "llm"
        assert reply.intent == "llm" and words == "Мы работаем до семи."


async def test_a_message_taken_by_the_model_is_a_typed_message() -> None:
    _answer, _words, reply = await turn(with_llm("Записала.", TAKE_MESSAGE), "Передайте...")
    assert isinstance(reply.message, Message) and reply.message.name == "Анна"


async def test_the_rules_goodbye_ends_the_call_through_either_mind() -> None:
    for mind in (rules(), with_llm()):
        answer, _words, reply = await turn(mind, "Спасибо, до свидания!")
        assert isinstance(answer.words, str)  # the rules keep goodbyes
        assert reply.end_call and reply.intent == "goodbye"


async def test_a_model_reply_cut_short_keeps_only_what_was_heard_and_no_actions() -> None:
    m = with_llm("Записала ваше сообщение. ", "Передам Анне.", TAKE_MESSAGE)
    m.greeting()
    answer = m.answer("Передайте, пожалуйста")
    await words_of(answer)
    reply = m.heard(answer, "Записала ваше сообщение.", interrupted=True, failed=False)
    assert reply == Reply("Записала ваше сообщение.", "llm_interrupted")
    assert m.history[-1].content == "Записала ваше сообщение."


async def test_a_model_reply_cut_before_it_was_written_is_remembered_as_heard() -> None:
    m = with_llm("Доставка ", "бесплатная.")
    answer = m.answer("Сколько стоит доставка?")
    assert answer.reply is None  # nothing written yet: the caller cut in at once
    reply = m.heard(answer, "", interrupted=True, failed=False)
    assert reply == Reply("", "llm_interrupted")
    assert [(msg.role, msg.content) for msg in m.history] == [
        ("user", "Сколько стоит доставка?"), ("assistant", "")]


async def test_a_failed_speech_keeps_the_actions_and_the_words_heard() -> None:
    m = with_llm("Записала. ", "Передам Анне.", TAKE_MESSAGE)
    answer = m.answer("Передайте, пожалуйста")
    await words_of(answer)
    reply = m.heard(answer, "Записала.", interrupted=False, failed=True)
    assert reply.message is not None  # the caller gave it: it is kept all the same
    assert m.history[-1].content == "Записала."


async def test_a_failed_rules_reply_stands_and_the_model_keeps_what_was_heard() -> None:
    m = with_llm()
    answer = m.answer("Спасибо, до свидания!")
    reply = m.heard(answer, "", interrupted=False, failed=True)
    assert reply.end_call and m.history[-1].content == ""
    d = rules()
    answer = d.answer("Спасибо, до свидания!")
    assert d.heard(answer, "", interrupted=True, failed=False) is answer.reply


async def test_checkpoint_and_restore_through_the_protocol() -> None:
    d = rules()
    m = with_llm("Слушаю вас.")
    for mind in (d, m):
        mind.greeting()
        before = mind.checkpoint()
        first = (await turn(mind, "Я хочу оставить сообщение"))[2]
        mind.restore(before)
        again = (await turn(mind, "Я хочу оставить сообщение"))[2]
        assert again == first  # the turn is answered as if the first had not been
        mind.restore(before)
    assert not d.mid_task and [who for who, _ in d.history] == ["secretary"]
    assert [msg.role for msg in m.history] == ["assistant"]


@pytest.mark.parametrize("kind", ["rules", "llm"])
def test_a_failed_transfer_and_a_key_go_through_the_protocol(kind: str) -> None:
    mind: Mind[Any] = rules() if kind == "rules" else with_llm()
    request = TransferRequest("accounting", "attended", None, "accounting", "Звонок")
    reply = mind.transfer_failed(request, "busy")
    assert reply.intent == "transfer_failed" and reply.text
    assert mind.on_dtmf("5") is None  # no form open: the key has no use
