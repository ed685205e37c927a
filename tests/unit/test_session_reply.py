"""A caller's turn through the call session, up to the call's record: the session asks
either mind (the rules, or rules + language model) through the one Mind interface, and
records what the caller actually heard: a reply whose synthesis failed keeps only the
sentences played before the failure (none, for a total failure), with `tts_failed`.

Real CallSession, Speaker, CallRecord and CallStore (SQLite in tmp_path); the listener,
the recogniser, the transport, the TTS engines and the language model are fakes (named
so)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from test_llm_chain import FakeProvider, chain
from test_speaker_stream import FakeTransport, FakeTts, FakeTtsFailingOnSecond

from ari_app.call.session import CallContext, CallSession
from ari_app.call.speaker import Speaker
from ari_app.config import Config
from ari_app.engines import Engines
from ari_app.llm.base import ToolCall
from ari_app.mind.dialogue import Dialogue
from ari_app.mind.llm_dialogue import LlmDialogue
from ari_app.mind.message import Message
from ari_app.mind.mind import Mind
from ari_app.mind.persona import Personas
from ari_app.notify.message import StaffMessage
from ari_app.storage import CallStore
from ari_app.stt.base import Transcript
from ari_app.stt.turn_stream import Audio, Heard
from ari_app.turn.endpointing import Utterance
from ari_app.turn.timings import TurnTimings
from ari_app.turn.turn import RestWaits, Turn

PERSONAS = Path(__file__).resolve().parents[2] / "config" / "personas"
TUESDAY_11 = dt.datetime.fromisoformat("2026-11-24T11:00:00+03:00")


class FakeListener:
    """What the session's speaking asks of the listener: no caller ever barges in."""

    def __init__(self) -> None:
        self.ignore_until = 0.0
        self.armed = 0
        self.loop = asyncio.get_running_loop()
        self.last_voiced_at = 0.0  # the caller never goes on after a turn

    def stop_listening(self) -> None:
        pass

    def arm_barge_in(self, callback: object, not_before: float) -> None:
        self.armed += 1

    def disarm_barge_in(self) -> None:
        pass


class FakeTurnStream:
    """A recogniser that hears a scripted text in any turn."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def words(self, audio: Audio) -> Heard:
        return Heard(Transcript(self.text, "ru", 1.0, 0.0), "batch")


class FakeTtsFailingAtOnce(FakeTts):
    """An engine that fails on every piece before any audio."""

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.spoken.append(text)
        raise RuntimeError("the fake engine has no voice")
        yield b""  # an async generator, as the engines are


async def call(tmp_path: Path, tts: FakeTts, caller_said: str = "") -> CallSession:
    """A session with its record open, speaking through `tts` on a fake transport."""
    store = CallStore(tmp_path / "calls.sqlite3")
    await store.open()
    personas = Personas(PERSONAS)
    kept: list[tuple[int, StaffMessage]] = []
    ctx = CallContext(
        cfg=Config.model_validate({"ari": {"password": "unit"}}),
        ari=None,  # type: ignore[arg-type]  # no Asterisk in a unit test
        engines=Engines(stt=None, tts={"ru": tts, "en": tts}),  # type: ignore[dict-item]
        store=store, personas=personas, route=lambda channel_id, session: None,
        on_message=lambda message_id, message: kept.append((message_id, message)),
    )
    session = CallSession(ctx, {
        "id": "chan-1", "name": "PJSIP/alice-00000001", "caller": {"number": "+79161234567"},
        "channelvars": {"SECRETARY_LANG": "ru"},
    })
    session.kept = kept  # type: ignore[attr-defined]
    await session.record.open(session.channel_id, session.line, session.endpoint,
                              session.caller_id, session.language)
    loop = asyncio.get_running_loop()
    session.listener = FakeListener()  # type: ignore[assignment]
    session.stream = FakeTurnStream(caller_said)  # type: ignore[assignment]
    session.speaker = Speaker(FakeTransport(loop), loop,  # type: ignore[arg-type]
                              lambda frame, at: None)
    return session


async def secretary_turns(session: CallSession) -> list[dict[str, Any]]:
    turns = await session.ctx.store.turns(session.call_id)
    return [t for t in turns if t["who"] == "secretary"]


def rules() -> Dialogue:
    return Dialogue(Personas(PERSONAS)("default"), "ru", caller_id="+79161234567",
                    now=lambda: TUESDAY_11)


def caller_turn(session: CallSession) -> tuple[Turn, Utterance]:
    """A caller's turn that ended half a second ago, and its speech."""
    now = session._loop.time()
    speech = Utterance(b"\x00\x00" * 8000, now - 1.5, now - 0.5, now, now - 1.8, now - 0.25)
    return Turn(session.stream, session.listener, RestWaits(0), session.call_id), speech


async def test_a_reply_whose_second_sentence_failed_is_recorded_as_its_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    session = await call(tmp_path, FakeTtsFailingOnSecond())
    with caplog.at_level(logging.ERROR):
        spoken = await session._speak(
            "Первое предложение здесь. Второе не прозвучит. Третье тоже.", timings=TurnTimings())
    assert spoken.failed and spoken.said == "Первое предложение здесь."
    [turn] = await secretary_turns(session)
    assert turn["text"] == "Первое предложение здесь."
    assert turn["timings"]["tts_failed"] == 1.0
    assert any(r.levelno == logging.ERROR and "speech failed" in r.getMessage()
               for r in caplog.records)
    await session.ctx.store.close()


async def test_a_reply_that_could_not_be_synthesised_is_recorded_as_not_said(
    tmp_path: Path,
) -> None:
    session = await call(tmp_path, FakeTtsFailingAtOnce())
    spoken = await session._speak("Здравствуйте! Компания «Ромашка».", timings=TurnTimings())
    assert spoken.failed and spoken.first_audio is None
    [turn] = await secretary_turns(session)
    assert turn["text"] == "" and turn["timings"]["tts_failed"] == 1.0
    await session.ctx.store.close()


async def test_a_reply_spoken_in_full_is_recorded_as_written(tmp_path: Path) -> None:
    session = await call(tmp_path, FakeTts())
    await session._speak("Первое.  Второе.", timings=TurnTimings())
    [turn] = await secretary_turns(session)
    assert turn["text"] == "Первое.  Второе." and "tts_failed" not in turn["timings"]
    await session.ctx.store.close()


@pytest.mark.parametrize("kind", ["rules", "llm"])
async def test_a_turn_goes_through_the_mind_interface(kind: str, tmp_path: Path) -> None:
    session = await call(tmp_path, FakeTts(), caller_said="Когда вы работаете?")
    mind: Mind[Any] = rules() if kind == "rules" else LlmDialogue(
        rules(), chain(FakeProvider("fake", ["Мы работаем ", "до семи."]), filler_after=5.0))
    spoken, reply = await session._answer(*caller_turn(session), mind)
    assert not spoken.interrupted and not spoken.failed
    [turn] = await secretary_turns(session)
    if kind == "llm":
        assert reply.intent == "llm" and turn["text"] == "Мы работаем до семи."
        assert isinstance(mind, LlmDialogue) and mind.history[-1].content == turn["text"]
    else:
        assert reply.intent.startswith("hours") and turn["text"] == reply.text
    await session.ctx.store.close()


async def test_a_message_the_model_took_is_kept_and_handed_on_typed(tmp_path: Path) -> None:
    session = await call(tmp_path, FakeTts(), caller_said="Передайте, что звонила Анна")
    take = ToolCall("1", "take_message", {
        "caller_name": "Анна", "callback_number": "8 916 123 45 67", "message": "счёт",
    })
    mind = LlmDialogue(rules(), chain(FakeProvider("fake", ["Хорошо. ", take]),
                                      filler_after=5.0))
    spoken, reply = await session._answer(*caller_turn(session), mind)
    assert isinstance(reply.message, Message)
    assert not await session._act(reply, spoken, mind)
    [(message_id, staff)] = session.kept  # type: ignore[attr-defined]
    assert message_id > 0 and isinstance(staff, StaffMessage)
    assert (staff.name, staff.callback_number, staff.reason, staff.urgency) == (
        "Анна", reply.message.callback_number, "счёт", "normal")
    assert (staff.caller_id, staff.language, staff.call_id) == (
        "+79161234567", "ru", session.call_id)
    assert staff.company is not None and "Ромашка" in staff.company
    await session.ctx.store.close()


async def test_a_model_reply_whose_speech_failed_is_remembered_as_heard(
    tmp_path: Path,
) -> None:
    session = await call(tmp_path, FakeTtsFailingOnSecond(), caller_said="Сколько стоит?")
    mind = LlmDialogue(rules(), chain(
        FakeProvider("fake", ["Доставка бесплатная. ", "Самовывоз тоже."]), filler_after=5.0))
    spoken, reply = await session._answer(*caller_turn(session), mind)
    assert spoken.failed and spoken.said == "Доставка бесплатная."
    [turn] = await secretary_turns(session)
    assert turn["text"] == "Доставка бесплатная." and turn["timings"]["tts_failed"] == 1.0
    assert mind.history[-1].content == "Доставка бесплатная."
    assert reply.intent == "llm"
    await session.ctx.store.close()
