"""One text turn through a Mind (mind/text_turn.py): the answer's words read in full, the
mind told they were all heard, its Reply returned; with a fake mind, the rules, and the rules
with a scripted language model (test_llm_chain.FakeProvider)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

from test_llm_chain import FakeProvider, chain

from ari_app.llm.base import LlmError
from ari_app.mind.dialogue import Dialogue
from ari_app.mind.llm_dialogue import make_mind
from ari_app.mind.mind import Answer, Reply
from ari_app.mind.persona import Personas
from ari_app.mind.text_turn import text_turn
from ari_app.tts.chunker import FLUSH

PERSONAS = Path(__file__).resolve().parents[2] / "config" / "personas"
TUESDAY_11 = dt.datetime.fromisoformat("2026-11-24T11:00:00+03:00")


class FakeMind:
    """Answers in pieces (or a text) and records what it was told was heard."""

    def __init__(self, words: str | list[str]) -> None:
        self.words = words
        self.told: list[tuple[str, bool, bool]] = []  # (said, interrupted, failed)
        self.read_to_the_end = False

    async def _pieces(self, pieces: list[str]) -> AsyncIterator[str]:
        for piece in pieces:
            yield piece
        self.read_to_the_end = True

    def answer(self, caller_text: str) -> Answer:
        if isinstance(self.words, str):
            return Answer.of(Reply(self.words, "fake"))
        return Answer(self._pieces(self.words), "fake")

    def heard(self, answer: Answer, said: str, *, interrupted: bool, failed: bool) -> Reply:
        self.told.append((said, interrupted, failed))
        return Reply(f"acted on: {said}", "fake", end_call=True)


def rules() -> Dialogue:
    return Dialogue(Personas(PERSONAS)("default"), "ru", now=lambda: TUESDAY_11)


async def test_pieces_are_read_in_full_and_heard() -> None:
    mind = FakeMind(["Одну секунду...", FLUSH, "Доставка ", "бесплатная."])
    turn = await text_turn(mind, "Сколько стоит доставка?")  # type: ignore[arg-type]
    assert mind.read_to_the_end
    assert turn.said == "Одну секунду... Доставка бесплатная."
    assert mind.told == [(turn.said, False, False)]
    assert turn.reply == Reply(f"acted on: {turn.said}", "fake", end_call=True)


async def test_a_text_answer_is_said_as_it_is() -> None:
    mind = FakeMind("Здравствуйте.")
    turn = await text_turn(mind, "Алло")  # type: ignore[arg-type]
    assert turn.said == "Здравствуйте." and mind.told == [("Здравствуйте.", False, False)]


async def test_the_rules_answer_a_text_turn() -> None:
    dialogue = rules()
    dialogue.greeting()
    turn = await text_turn(dialogue, "Когда вы работаете?")
    assert turn.reply.intent.startswith("hours") and turn.said == turn.reply.text
    goodbye = await text_turn(dialogue, "Спасибо, до свидания!")
    assert goodbye.reply.end_call


async def test_the_model_answers_and_a_dead_one_leaves_it_to_the_rules() -> None:
    mind = make_mind(rules(), chain(FakeProvider("fake", ["Доставка ", "бесплатная."])))
    turn = await text_turn(mind, "Сколько стоит доставка?")
    assert turn.said == turn.reply.text == "Доставка бесплатная." and turn.reply.intent == "llm"
    dead = make_mind(rules(), chain(FakeProvider("dead", [LlmError("dead", "refused")])))
    turn = await text_turn(dead, "Когда вы работаете?")
    assert turn.reply.intent.startswith("hours") and turn.said == turn.reply.text
