"""Whole calls through the real `CallSession` on a virtual clock: greeting, a question
answered, barge-in, silence, a hang-up mid-reply or mid-message, the app stopping
mid-reply.

Real: the session, its Listener (endpointer, energy VAD), Speaker, Turn, BatchTurnStream,
the rules Mind with the default persona, CallRecord and CallTasks. Fakes (named so): the
ARI client, the media line (a scripted caller, 20 ms frames paced by the loop's clock),
the recogniser (it names the phrase a tone stands for), the TTS engine (a tone as long as
the text) and the call store (in memory: aiosqlite's thread would race the virtual clock).
The clock is `testkit.virtual_clock.VirtualClockLoop`: every time below is exact, whatever
the machine's speed, and a minute of call takes a fraction of a second."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ari_app.call.ending import EndReason
from ari_app.call.media_leg import MediaLeg
from ari_app.call.parts import CallParts
from ari_app.call.session import HANDOFF_CONTEXT, HANDOFF_EXTEN, CallContext, CallSession
from ari_app.config import Config
from ari_app.engines import Engines
from ari_app.media.transport import TransportStats
from ari_app.mind.persona import Personas
from ari_app.stt.base import Transcript
from testkit.virtual_clock import VirtualClockLoop

PERSONAS = Path(__file__).resolve().parents[2] / "config" / "personas"
RATE = 8000
FRAME_S = 0.02
FRAME_BYTES = 2 * int(RATE * FRAME_S)
CHANNEL = "chan-1"
# what the fake recogniser hears in a tone of each pitch
PHRASES = {440: "Когда вы работаете?", 660: "До свидания!", 880: "Подождите, а в субботу?",
           520: "Я хочу оставить сообщение", 1000: "Меня зовут Анна Петрова", 1200: "Нет",
           1400: "восемь девять два шесть два ноль ноль четыре семь один восемь"}
TTS_S_PER_CHAR = 0.06  # the fake voice: a long answer takes seconds to say
END_SILENCE_S = 0.6  # the config's end_silence_ms


def tone(seconds: float, hz: int, dbfs: float = -20.0) -> bytes:
    t = np.arange(round(seconds * RATE)) / RATE
    amplitude = 32767 * 10 ** (dbfs / 20) * np.sqrt(2)
    return (np.sin(2 * np.pi * hz * t) * amplitude).astype("<i2").tobytes()


class FakeLine:
    """The call's media transport: the caller's side is a script (silence unless told to
    say something), one 20 ms frame per read on the loop's clock; what the secretary sends
    is kept with the time it was sent."""

    sample_rate = RATE
    paced = False  # the speaker paces its frames, as for chan_websocket

    def __init__(self) -> None:
        self.stats = TransportStats()
        self.loop = asyncio.get_running_loop()
        self.caller: deque[bytes] = deque()
        self.sent: list[float] = []  # when each of the secretary's frames was sent
        self.last_voiced = 0.0  # when the caller's last scripted frame was delivered
        self.closed = False
        self.sending = asyncio.Event()  # set at each frame the secretary sends
        self.said = asyncio.Event()  # set when the caller's script has all been delivered
        self._due: float | None = None

    def say(self, pcm: bytes) -> None:
        self.said.clear()
        self.caller.extend(pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES))

    async def start(self) -> None:
        pass

    async def read_frame(self) -> bytes | None:
        self._due = (self._due or self.loop.time()) + FRAME_S
        await asyncio.sleep(max(0.0, self._due - self.loop.time()))
        if self.closed:
            return None
        if self.caller:
            self.last_voiced = self.loop.time()
            frame = self.caller.popleft()
            if not self.caller:
                self.said.set()
            return frame
        return bytes(FRAME_BYTES)

    async def write_frame(self, pcm: bytes) -> None:
        self.sent.append(self.loop.time())
        self.sending.set()

    def flush(self) -> int:
        return 0

    async def flush_far_end(self) -> None:
        pass

    async def drained(self) -> None:
        pass

    def take_send_jitter(self) -> list[float]:
        return []

    async def close(self) -> None:
        self.closed = True

    def replies(self, after: float = 0.0) -> list[tuple[float, float]]:
        """The secretary's stretches of speech (first and last frame times) since `after`."""
        spans: list[tuple[float, float]] = []
        for at in (t for t in self.sent if t > after):
            if spans and at - spans[-1][1] <= 3 * FRAME_S:
                spans[-1] = (spans[-1][0], at)
            else:
                spans.append((at, at))
        return spans

    async def speaking(self, after: float) -> float:
        """Wait until the secretary speaks after `after`; when it began."""
        while not (spans := self.replies(after)):
            self.sending.clear()
            await self.sending.wait()
        return spans[0][0]

    async def quiet(self, after: float, for_s: float = 0.3) -> float:
        """Wait until the secretary has spoken after `after` and then been quiet for
        `for_s`; when it stopped."""
        while True:
            spans = self.replies(after)
            if spans and self.loop.time() - spans[-1][1] >= for_s:
                return spans[-1][1]
            await asyncio.sleep(FRAME_S)


class FakeAri:
    """Takes every ARI request and keeps it, as (method, positional arguments...)."""

    def __init__(self) -> None:
        self.requests: list[tuple[Any, ...]] = []

    def __getattr__(self, method: str) -> Callable[..., Awaitable[dict[str, Any]]]:
        async def request(*args: Any, **kwargs: Any) -> dict[str, Any]:
            self.requests.append((method, *args))
            return {}
        return request

    def made(self, method: str, *args: Any) -> bool:
        return any(r[: 1 + len(args)] == (method, *args) for r in self.requests)


class FakeRecogniser:
    """Hears the phrase whose pitch dominates the audio (see PHRASES); keeps what it was
    given."""

    sample_rate = RATE
    pending = 0

    def __init__(self) -> None:
        self.given: list[bytes] = []
        self.delay_s = 0.0  # how long each transcription takes (a busy recogniser)

    async def load(self) -> None:
        pass

    async def transcribe(self, pcm: bytes, language: str, *, prompt: str | None = None
                         ) -> Transcript:
        self.given.append(pcm)
        await asyncio.sleep(self.delay_s)
        samples = np.frombuffer(pcm, "<i2").astype(np.float64)
        text = ""
        if samples.size and np.abs(samples).max() > 300:
            spectrum = np.abs(np.fft.rfft(samples))
            pitch = np.argmax(spectrum) * RATE / samples.size
            nearest = min(PHRASES, key=lambda hz: abs(hz - pitch))
            text = PHRASES[nearest] if abs(nearest - pitch) < 40 else ""
        return Transcript(text, language, samples.size / RATE, 0.0)


class FakeTts:
    """Says each piece as a 300 Hz tone, TTS_S_PER_CHAR a character, in 200 ms chunks."""

    name = "fake"
    sample_rate = RATE

    def __init__(self) -> None:
        self.spoken: list[str] = []
        self.asked: list[tuple[float, str]] = []  # when each piece was asked for

    async def load(self) -> None:
        pass

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.spoken.append(text)
        self.asked.append((asyncio.get_running_loop().time(), text))
        audio = tone(len(text) * TTS_S_PER_CHAR, 300)
        step = 2 * int(RATE * 0.2)
        for i in range(0, len(audio), step):
            await asyncio.sleep(0)
            yield audio[i : i + step]


class FakeCallStore:
    """The call store's writes, kept in memory."""

    def __init__(self) -> None:
        self.call: dict[str, Any] = {}
        self.turns: list[dict[str, Any]] = []
        self.ended_by: str | None = None
        self.messages: list[dict[str, Any]] = []

    async def start_call(self, call_id: str, **fields: Any) -> None:
        self.call = fields

    async def add_turn(self, call_id: str, **turn: Any) -> int:
        self.turns.append(turn)
        return len(self.turns) - 1

    async def drop_turns(self, call_id: str, indexes: list[int]) -> int:
        for i in indexes:
            self.turns[i]["dropped"] = True
        return len(indexes)

    async def set_recordings(self, call_id: str, **paths: Any) -> None:
        pass

    async def set_transferred(self, call_id: str, target: str, by: str | None = None) -> None:
        self.transferred = (target, by)

    async def add_message(self, call_id: str, message: dict[str, Any]) -> int:
        self.messages.append(message)
        return len(self.messages)

    async def end_call(self, call_id: str, *, ended_by: str, error: str | None,
                       ended_at: float) -> None:
        self.ended_by = ended_by

    def said(self, who: str) -> list[str]:
        return [t["text"] for t in self.turns if t["who"] == who and not t.get("dropped")]

    def timings(self, who: str) -> list[dict[str, float]]:
        return [t["timings"] for t in self.turns if t["who"] == who and not t.get("dropped")]


class FakeConsole:
    """A fake console (call/observer.CallObserver and its CallWatch): keeps the barge-ins
    it is shown, unix times."""

    def __init__(self) -> None:
        self.barge_ins: list[float] = []

    def call_started(self, call: Any, control: Any) -> FakeConsole:
        return self

    def barge_in(self, at: float) -> None:
        self.barge_ins.append(at)

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None  # turns, speaking, audio: not kept


class Call:
    """One call on the virtual clock: the real session with fake parts."""

    def __init__(self, turn: dict[str, Any] | None = None, **channelvars: str) -> None:
        self.line = FakeLine()
        self.ari = FakeAri()
        self.store = FakeCallStore()
        self.stt = FakeRecogniser()
        self.tts = FakeTts()
        self.console = FakeConsole()
        cfg = Config.model_validate({
            "ari": {"password": "unit"},
            "turn": {"vad": "energy", "end_of_turn": "silence",
                     "end_silence_ms": int(END_SILENCE_S * 1000), **(turn or {})},
            "storage": {"record_audio": False},
            "frozen_time": "2026-11-24T11:00:00+03:00",  # a Tuesday, open
        })
        ctx = CallContext(
            cfg=cfg, ari=self.ari,  # type: ignore[arg-type]
            engines=Engines(stt=self.stt, tts={"ru": self.tts, "en": self.tts}),  # type: ignore[dict-item]
            store=self.store,  # type: ignore[arg-type]
            personas=Personas(PERSONAS), route=lambda channel_id, session: None,
            parts=CallParts(media_leg=self._leg), observer=self.console,
        )
        self.session = CallSession(ctx, {
            "id": CHANNEL, "name": "PJSIP/alice-00000001", "caller": {"number": "+79161234567"},
            "channelvars": {"SECRETARY_LANG": "ru", **channelvars},
        })
        self.task = asyncio.create_task(self.session.run())

    async def _leg(self, ari: Any, cfg: Any, channel_id: str, bridge_id: str,
                   started: Any) -> MediaLeg:
        return MediaLeg(channel_id, self.line)  # type: ignore[arg-type]

    def now(self) -> float:
        return self.line.loop.time()

    async def greeted(self) -> float:
        """Wait for the end of the greeting; when it ended."""
        return await self.line.quiet(after=0.0)

    async def ask(self, seconds: float, hz: int) -> tuple[float, float]:
        """The caller says the phrase of `hz`; wait until the secretary begins to answer.
        When the caller stopped, and when the answer began."""
        self.line.say(tone(seconds, hz))
        await self.line.said.wait()
        stopped = self.line.last_voiced
        return stopped, await self.line.speaking(after=stopped)

    async def ended(self) -> None:
        await asyncio.wait_for(self.task, 120)

    def hangs_up(self) -> None:
        self.session.on_event({"type": "ChannelHangupRequest", "channel": {"id": CHANNEL}})


def on_virtual_clock(test: Callable[[], Awaitable[None]]) -> None:
    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        runner.run(test())


def test_a_question_is_answered_and_goodbye_ends_the_call() -> None:
    async def call() -> None:
        c = Call()
        await c.greeted()
        stopped, answered = await c.ask(1.2, 440)
        # the answer begins once the caller has been quiet for end_silence_ms, no later
        assert END_SILENCE_S <= answered - stopped <= END_SILENCE_S + 0.1
        await c.line.quiet(after=answered)
        await c.ask(0.8, 660)
        await c.ended()
        assert c.store.ended_by == EndReason.APP_HANGUP.value
        assert c.store.said("caller") == [PHRASES[440], PHRASES[660]]
        greeting, hours, goodbye = c.store.said("secretary")
        assert greeting and goodbye and "понедельник" in hours.lower()
        assert c.tts.spoken[0] in greeting
        assert c.ari.made("answer", CHANNEL) and c.ari.made("hangup", CHANNEL)
        assert c.ari.made("destroy_bridge") and c.line.closed
    on_virtual_clock(call)


def test_the_caller_barges_in_and_is_heard_from_the_first_frame() -> None:
    async def call() -> None:
        c = Call()
        await c.greeted()
        _, answered = await c.ask(1.2, 440)
        await asyncio.sleep(1.0)
        barge_at = c.now()
        stopped, next_answer = await c.ask(1.0, 880)
        spans = c.line.replies(after=answered)
        cut = spans[0][1]  # the last frame of the interrupted answer
        assert barge_at < cut <= barge_at + 0.4  # stopped within 400 ms of the caller
        assert c.store.said("caller") == [PHRASES[440], PHRASES[880]]
        assert c.store.timings("secretary")[1]["interrupted"] == 1.0
        # the recogniser was given the whole interruption: from its first frame
        assert len(c.stt.given[-1]) / 2 / RATE >= 1.0
        assert next_answer > stopped
        c.hangs_up()
        await c.ended()
        assert c.store.ended_by == EndReason.CALLER_HANGUP.value
    on_virtual_clock(call)


def test_a_silent_caller_is_prompted_then_told_goodbye() -> None:
    async def call() -> None:
        c = Call()
        greeting_end = await c.greeted()
        await c.ended()
        cfg = c.session.ctx.cfg.turn
        greeting, reprompt, goodbye = c.line.replies(after=0.0)
        assert greeting[1] == pytest.approx(greeting_end)
        assert reprompt[0] - greeting_end == pytest.approx(cfg.reprompt_after_s, abs=0.1)
        assert goodbye[0] - reprompt[1] == pytest.approx(
            cfg.goodbye_after_s - cfg.reprompt_after_s, abs=0.1)
        assert c.store.said("caller") == []
        assert len(c.store.said("secretary")) == 3
        assert c.store.ended_by == EndReason.APP_HANGUP.value
    on_virtual_clock(call)


def test_a_hangup_mid_reply_records_what_was_said_and_leaves_the_caller_alone() -> None:
    async def call() -> None:
        c = Call()
        await c.greeted()
        _, answered = await c.ask(1.2, 440)
        await asyncio.sleep(2.5)
        c.hangs_up()
        await c.ended()
        assert c.store.ended_by == EndReason.CALLER_HANGUP.value
        cut = c.store.turns[-1]  # the reply cut short
        assert cut["who"] == "secretary" and cut["timings"]["interrupted"] == 1.0
        assert cut["text"] in c.tts.spoken[1] or c.tts.spoken[1].startswith(cut["text"])
        assert not c.ari.made("hangup", CHANNEL)  # the caller has gone already
        assert c.ari.made("hangup", c.session.media_channel_id)
        assert c.ari.made("destroy_bridge", c.session.bridge_id)
        assert c.line.replies(after=answered)[0][1] <= answered + 2.5 + FRAME_S
    on_virtual_clock(call)


def test_the_app_stopping_mid_reply_hands_the_caller_to_staff() -> None:
    async def call() -> None:
        c = Call(SECRETARY_FALLBACK="staff")
        await c.greeted()
        _, answered = await c.ask(1.2, 440)
        await asyncio.sleep(0.5)
        asked_at = c.now()
        await c.session.hand_back(cut_after_s=1.0)
        await c.ended()
        assert c.store.ended_by == EndReason.HANDED_BACK.value
        handing_back = c.store.said("secretary")[-1]
        assert "соедин" in handing_back.lower()
        assert c.store.timings("secretary")[1]["interrupted"] == 1.0
        # the reply was cut when its time was up, and the phrase said in full at once
        phrase_at = next(at for at, text in c.tts.asked if handing_back.startswith(text))
        assert phrase_at == pytest.approx(asked_at + 1.0, abs=0.1)
        [(_, last_frame)] = c.line.replies(after=answered)
        assert last_frame >= phrase_at + len(handing_back) * TTS_S_PER_CHAR - 0.1
        assert c.ari.made("continue_in_dialplan", CHANNEL, HANDOFF_CONTEXT, HANDOFF_EXTEN)
        assert not c.ari.made("hangup", CHANNEL)  # the dialplan has the caller now
    on_virtual_clock(call)


def test_the_app_stopping_while_the_caller_speaks_waits_for_the_answer() -> None:
    async def call() -> None:
        c = Call(SECRETARY_FALLBACK="staff")
        await c.greeted()
        c.line.say(tone(1.2, 440))
        await asyncio.sleep(0.6)  # mid-question
        await c.session.hand_back(cut_after_s=30.0)
        await c.ended()
        # the question was answered in full before the hand-back phrase
        assert c.store.said("caller") == [PHRASES[440]]
        _, hours, handing_back = c.store.said("secretary")
        assert "понедельник" in hours.lower() and "соедин" in handing_back.lower()
        assert c.store.timings("secretary")[1].get("interrupted", 0.0) == 0.0
        assert c.store.ended_by == EndReason.HANDED_BACK.value
    on_virtual_clock(call)


def test_stopping_at_once_mid_reply_hangs_up_and_closes_the_record() -> None:
    async def call() -> None:
        c = Call()
        await c.greeted()
        await c.ask(1.2, 440)
        await asyncio.sleep(0.5)
        c.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await c.task
        assert c.store.ended_by == EndReason.APP_SHUTDOWN.value
        assert c.store.timings("secretary")[-1]["interrupted"] == 1.0
        assert c.ari.made("hangup", CHANNEL) and c.ari.made("destroy_bridge")
        assert c.line.closed
    on_virtual_clock(call)


def test_a_caller_cut_off_mid_message_leaves_what_they_said() -> None:
    async def call() -> None:
        c = Call()
        await c.greeted()
        for hz in (520, 1000, 1200):  # a message; the name; not the number called from
            _, answered = await c.ask(1.2, hz)
            await c.line.quiet(after=answered)
        _, answered = await c.ask(2.5, 1400)  # the number, then the line drops mid-read-back
        await asyncio.sleep(1.0)
        c.hangs_up()
        await c.ended()
        assert c.store.ended_by == EndReason.CALLER_HANGUP.value
        [message] = c.store.messages
        assert message["name"] == "Анна Петрова"
        assert message["callback_number"] == "89262004718"
        assert message["caller_id"] == "+79161234567" and message["reason"] is None
        assert message["confirmed"] is False  # the staff know to check the number
    on_virtual_clock(call)


def test_a_call_without_a_message_begun_leaves_none() -> None:
    async def call() -> None:
        c = Call()
        await c.greeted()
        _, answered = await c.ask(1.2, 440)  # only the hours asked
        await c.line.quiet(after=answered)
        c.hangs_up()
        await c.ended()
        assert c.store.messages == []
    on_virtual_clock(call)
