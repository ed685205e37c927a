"""One call, from StasisStart to the last hangup: answer, bridge, media leg, then the
conversation (greet, listen, transcribe, reply, speak) and a clean teardown that leaves
nothing behind in Asterisk and always closes the call's record."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ari_app.ari.client import AriClient
from ari_app.ari.events import HANGUP_EVENTS
from ari_app.call.draft import ReplyDraft, first_sentence
from ari_app.call.ending import EndReason
from ari_app.call.hold_cue import HoldCue
from ari_app.call.media_leg import MediaLeg
from ari_app.call.observer import (
    NOBODY,
    CallObserver,
    CallWatch,
    LiveCall,
    OperatorError,
    Speaking,
    TappedTransport,
    UnknownTarget,
)
from ari_app.call.parts import CallParts
from ari_app.call.record import CallRecord
from ari_app.call.recorder import CallRecorder
from ari_app.call.speaker import Speaker, Spoken
from ari_app.call.tasks import CallTasks
from ari_app.call.transfer import StaffCall, StaffTarget
from ari_app.capacity import Capacity
from ari_app.config import Config
from ari_app.engines import Engines
from ari_app.errors import ConfigError
from ari_app.llm.chain import FallbackChain
from ari_app.media.tones import ringback_task
from ari_app.metrics import Metrics
from ari_app.mind.dialogue import Dialogue, frozen_clock
from ari_app.mind.llm_dialogue import make_mind
from ari_app.mind.message import Message
from ari_app.mind.mind import Answer, FailReason, Mind, Reply
from ari_app.mind.persona import Persona
from ari_app.mind.staff import TransferRequest, operator_request
from ari_app.notify.message import StaffMessage
from ari_app.record_spool import RecordSpool
from ari_app.storage import CallStore
from ari_app.stt.base import Transcript
from ari_app.stt.prompt import persona_words, recogniser_prompt
from ari_app.stt.turn_stream import TurnStream
from ari_app.tts.base import TextToSpeech
from ari_app.turn.end_of_turn import TurnEndJudge
from ari_app.turn.endpointing import Utterance
from ari_app.turn.listener import BargeIn, Listener
from ari_app.turn.timings import CallerFigures, SpeechFigures, TurnTimings, withdrawn_unheard
from ari_app.turn.turn import RestWaits, Turn

log = logging.getLogger(__name__)

HANGUP_DRAIN_S = 0.5  # let the last words of a goodbye leave before hanging up
ECHO_GUARD_S = 0.25  # ignore the caller's side just after we stop speaking
HELD_WAIT_S = 1.0  # after a withdrawn reply: how long to wait for the caller's rest
HANDOFF_CONTEXT = "secretary-inbound"  # asterisk/dialplan/secretary.conf
HANDOFF_EXTEN = "handoff"  # the line's fallback (staff, then voicemail) when the app stops
HAND_BACK_S = 6.0  # what saying the hand-back phrase and leaving takes
HAND_BACK_POLL_S = 0.05
MID_TURN_MARGIN_S = 0.2  # a caller quiet for the end silence and this long is not mid-turn
QUIET_MARGIN_S = 0.05  # a voiced frame this long after a turn's last one: the caller went on
BARGE_LEAD_S = 0.1  # a barge-in's frames count from this long before its detected onset
CALLER_SPEAKING_HOLD_S = 0.3  # the caller counts as speaking this long after a voiced frame


def listen_from(spoken: Spoken) -> float:
    """Where the caller's next turn may begin: just before the speech that interrupted
    us, or the end of what we said (the echo guard discounts its tail)."""
    if spoken.barge_onset is not None:
        return spoken.barge_onset - BARGE_LEAD_S
    return spoken.ended


@dataclass
class CallContext:
    """What every call needs from the application."""

    cfg: Config
    ari: AriClient
    engines: Engines
    store: CallStore
    personas: Callable[[str], Persona]
    route: Callable[[str, CallSession], None]  # send events of this channel id to the session
    on_message: Callable[[int, StaffMessage], None] | None = None  # notify staff of a message
    llm: FallbackChain | None = None  # the language models; None: the rules alone
    metrics: Metrics = field(default_factory=Metrics)  # what /metrics shows
    capacity: Capacity | None = None  # told how late each reply came (saturation)
    spool: RecordSpool | None = None  # keeps the record writes the database refuses
    parts: CallParts = field(default_factory=CallParts)  # builds each call's own parts
    observer: CallObserver | None = None  # the console's live view of the calls


class CallSession:
    def __init__(self, ctx: CallContext, channel: dict[str, Any]) -> None:
        self.ctx = ctx
        self.channel_id: str = channel["id"]
        self.call_id = uuid.uuid4().hex[:16]
        variables = channel.get("channelvars") or {}
        dialplan = channel.get("dialplan") or {}
        self.line: str = variables.get("SECRETARY_LINE") or dialplan.get("context") or "default"
        self.language: str = variables.get("SECRETARY_LANG") or ctx.cfg.language_for(self.line)
        if self.language not in ctx.engines.tts:
            self.language = ctx.cfg.default_language
        self.persona_name: str = (
            variables.get("SECRETARY_PERSONA") or ctx.cfg.persona_for(self.line)
        )
        self.caller_id: str = (channel.get("caller") or {}).get("number", "")
        self.has_fallback = bool(variables.get("SECRETARY_FALLBACK"))  # staff behind the line
        name: str = channel.get("name", "")
        self.endpoint = name.rsplit("-", 1)[0] if "-" in name else name
        self.bridge_id = f"secretary-{self.call_id}"
        self.media_channel_id = f"secretary-media-{self.call_id}"
        self.ended_by: EndReason | None = None
        self.error: str | None = None
        self.leg: MediaLeg | None = None
        self.recorder: CallRecorder | None = None
        self.dtmf: asyncio.Queue[str] = asyncio.Queue()  # keys pressed, for the dialogue
        self._held: Turn | None = None  # a turn withdrawn unheard, which the next continues
        self._judge: TurnEndJudge | None = None  # the end-of-turn model's guesses
        self._mind: Mind[Any] | None = None
        self._draft: ReplyDraft | None = None  # the answer to the last guess, being spoken
        self._drafting: asyncio.Task[None] | None = None
        self.tasks = CallTasks(self.call_id)  # everything the call runs beside its dialogue
        self.listener: Listener  # set once the media leg is up
        self.stream: TurnStream  # the recogniser, turn after turn
        self.speaker: Speaker
        self._task: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()
        self._media_started: asyncio.Future[None] = self._loop.create_future()
        self._staff: StaffCall | None = None  # an attended transfer in progress
        self._transfers = 0
        self._peer: str | None = None  # staff channel bridged to the caller after a transfer
        self._caller_gone: asyncio.Future[None] = self._loop.create_future()
        self._media_released = False  # our media leg left the call on purpose
        self._caller_released = False  # the caller left Stasis (blind transfer, handed back)
        self._listening = asyncio.Event()  # waiting for the caller: no reply under way
        self.record = CallRecord(ctx.store, self.call_id, self._loop,
                                 on_failure=ctx.metrics.record_failed, spool=ctx.spool)
        self.watch: CallWatch = NOBODY  # the console's live view, once the call is open
        self.speaking = Speaking(NOBODY)
        self._operator: tuple[TransferRequest, str] | None = None  # a transfer asked for

    # --- events, routed here by the app --------------------------------------------------
    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        channel_id = (event.get("channel") or {}).get("id") or ""
        if self._staff is not None and self._staff.owns(channel_id):
            self._staff.on_event(event)
        elif channel_id == self.media_channel_id:
            if kind == "StasisStart" and not self._media_started.done():
                self._media_started.set_result(None)
            elif kind in HANGUP_EVENTS and not self._media_released:
                self.end(EndReason.MEDIA_LOST)
        elif channel_id == self.channel_id and kind in HANGUP_EVENTS:
            if not self._caller_gone.done():
                self._caller_gone.set_result(None)
            if self._peer is None and not self._caller_released:
                self.end(EndReason.CALLER_HANGUP)
        elif channel_id == self.channel_id and kind == "ChannelDtmfReceived":
            self._on_dtmf(str(event.get("digit", "")), int(event.get("duration_ms", 0)))

    def _on_dtmf(self, digit: str, duration_ms: int) -> None:
        """A key pressed by the caller: queued for the conversation (menus, transfer
        accept), recorded, and it stops the secretary speaking, as on any IVR."""
        log.info("call %s: DTMF %s (%d ms)", self.call_id, digit, duration_ms)
        self.dtmf.put_nowait(digit)
        if self.ended_by is None and hasattr(self, "speaker"):
            self.speaker.interrupt()
        now = self._loop.time()
        self._publish_turn("caller", f"DTMF {digit}", now, now)
        self.tasks.spawn(self.record.turn(
            "caller", f"DTMF {digit}", now, now, CallerFigures(dtmf=True).as_record()
        ), "dtmf-record", cancel_on_stop=False)

    def end(self, reason: EndReason) -> None:
        """End the call from outside the conversation (hangup, lost media, shutdown)."""
        if self.ended_by is not None:
            return
        self.ended_by = reason
        log.info("call %s: ending (%s)", self.call_id, reason)
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    # --- what a console operator may do (call/observer.CallControl) ----------------------
    def operator_hangup(self, by: str) -> None:
        log.info("call %s: hung up by the operator %s", self.call_id, by)
        self.end(EndReason.OPERATOR_HANGUP)

    def operator_transfer(self, to: str, by: str) -> str:
        """Put the caller through to `to` the way the secretary would (blind or attended, as
        the persona says): at once between turns, else once what is being said is cut."""
        if self.ended_by is not None or self._caller_released:
            raise OperatorError("the call is ending")
        if self._operator is not None or self._staff is not None or self._peer is not None:
            raise OperatorError("the call is already being put through")
        if self._mind is None:
            raise OperatorError("the call is not answered yet")
        request = operator_request(self._persona(), to, caller_number=self.caller_id or None)
        if request is None:
            raise UnknownTarget(f"{to!r} is no staff member, department or extension")
        log.info("call %s: the operator %s puts the caller through to %s", self.call_id, by,
                 request.target)
        self._operator = (request, by)
        self.speaker.interrupt()
        return request.target

    async def hand_back(self, cut_after_s: float) -> None:
        """The app is stopping: once no reply is under way and the caller is not mid-turn
        (or after `cut_after_s`, cutting a reply short), the caller hears a short phrase
        and goes back to the dialplan, to the line's fallback (`_give_back`). A call
        already with staff stays as it is until it ends or the app stops at once."""
        cut_at = self._loop.time() + cut_after_s
        while self.ended_by is None:
            with_staff = self._peer is not None or self._staff is not None
            waiting = self._listening.is_set() and not self._caller_mid_turn()
            if not with_staff and (waiting or self._loop.time() >= cut_at):
                self.end(EndReason.HANDED_BACK)
                return
            await asyncio.sleep(HAND_BACK_POLL_S)

    def _caller_mid_turn(self) -> bool:
        """The caller is speaking, or paused less than a turn's end silence ago: their
        question is answered before the call is handed back."""
        quiet_s = self._loop.time() - self.listener.last_voiced_at
        return quiet_s < self.ctx.cfg.turn.end_silence_ms / 1000 + MID_TURN_MARGIN_S

    # --- the call ------------------------------------------------------------------------
    async def run(self) -> None:
        """The call, from its answer to its closed record; what it starts beside the
        dialogue runs in `self.tasks` and is over when this returns."""
        self._task = asyncio.current_task()
        async with self.tasks:
            await self._run()

    async def _run(self) -> None:
        self.ctx.metrics.call_started(self.line)
        await self.record.open(
            self.channel_id, self.line, self.endpoint, self.caller_id, self.language
        )
        if self.ctx.observer is not None:
            self.watch = self.ctx.observer.call_started(
                LiveCall(self.call_id, self.line, self.caller_id, time.time()), self)
            self.speaking = Speaking(self.watch)
        log.info(
            "call %s: channel %s line %s (%s) from %r",
            self.call_id, self.channel_id, self.line, self.language, self.caller_id,
        )
        try:
            await self._converse()
            if self.ended_by is None:
                self.ended_by = EndReason.APP_HANGUP
        except asyncio.CancelledError:
            if self.ended_by is None:  # cancelled from outside: the app is stopping at once
                self.ended_by = EndReason.APP_SHUTDOWN
                await asyncio.shield(self._teardown())
                raise
            if self.ended_by is EndReason.HANDED_BACK:
                try:
                    await self._give_back()
                except asyncio.CancelledError:  # stopped at once meanwhile
                    if not self._caller_released:
                        self.ended_by = EndReason.APP_SHUTDOWN
                    await asyncio.shield(self._teardown())
                    raise
                except Exception as exc:
                    log.exception("call %s: could not hand the caller back", self.call_id)
                    self.ended_by = EndReason.ERROR
                    self.error = f"hand-back failed: {exc.__class__.__name__}: {exc}"
        except Exception as exc:
            log.exception("call %s: failed", self.call_id)
            self.ended_by = self.ended_by or EndReason.ERROR
            self.error = f"{exc.__class__.__name__}: {exc}"
        await asyncio.shield(self._teardown())

    async def _give_back(self) -> None:
        """Say that the call is being put through, then send the caller to the line's
        fallback in the dialplan (the same staff and voicemail as when the app is down)."""
        if self.leg is not None and not self._media_released and self._mind is not None:
            spoken = await self.speaker.say(self._mind.handing_back(self.has_fallback),
                                            self.ctx.engines.voice(self.language, self.line))
            await asyncio.sleep(HANGUP_DRAIN_S)
            await self.record.turn("secretary", spoken.said, spoken.started, spoken.ended,
                                   TurnTimings().as_record())
        log.info("call %s: handed back to the dialplan (%s,%s)", self.call_id,
                 HANDOFF_CONTEXT, HANDOFF_EXTEN)
        await self.ctx.ari.continue_in_dialplan(self.channel_id, HANDOFF_CONTEXT, HANDOFF_EXTEN)
        self._caller_released = True

    async def _watchdog(self, every_s: float) -> None:
        """Keep the caller's TIMEOUT(absolute) ahead of now while this call lives. If the app
        dies, the renewals stop, and Asterisk takes the caller out of Stasis to the line's
        fallback (asterisk/dialplan/secretary.conf, extension T) instead of leaving them in
        silence."""
        ahead = str(int(self.ctx.cfg.ari.watchdog_s))
        while True:
            try:
                await self.ctx.ari.set_variable(self.channel_id, "TIMEOUT(absolute)", ahead)
            except Exception as exc:
                log.warning("call %s: watchdog not renewed: %s", self.call_id, exc)
            await asyncio.sleep(every_s)

    async def _converse(self) -> None:
        ari = self.ctx.ari
        cfg = self.ctx.cfg
        await ari.answer(self.channel_id)
        if cfg.ari.watchdog_s > 0:
            self.tasks.spawn(self._watchdog(max(1.0, cfg.ari.watchdog_s / 3)), "watchdog")
        await ari.create_bridge(self.bridge_id, name=f"secretary call {self.call_id}")
        await ari.add_to_bridge(self.bridge_id, self.channel_id)
        self.ctx.route(self.media_channel_id, self)
        parts = self.ctx.parts
        self.leg = await parts.media_leg(
            ari, cfg.media, self.media_channel_id, self.bridge_id, self._media_started
        )
        log.info("call %s: media leg %s", self.call_id, self.leg.describe())
        transport = self.leg.transport
        if cfg.storage.record_audio:
            self.recorder = CallRecorder(
                cfg.storage.recordings_dir, self.call_id, transport.sample_rate
            )
        self.listener = Listener(
            TappedTransport(transport, self._heard),
            parts.vad(cfg.turn.vad, transport.sample_rate), cfg.turn, self.recorder, self._loop,
        )
        self.speaker = Speaker(transport, self._loop, self._on_frame_sent)
        self.stream = parts.turn_stream(
            self.ctx.engines.stt, self.ctx.engines.streaming, self.language,
            transport.sample_rate, self.call_id,
        )
        self.listener.on_turn_frame = self.stream.feed
        if self.ctx.engines.turn_end is not None:
            self._judge = TurnEndJudge(self.ctx.engines.turn_end, transport.sample_rate,
                                       cfg.turn.smart_turn_threshold, self.call_id,
                                       self.language)
        dialogue = make_mind(Dialogue(
            self._persona(), self.language,
            caller_id=self.caller_id or None, now=frozen_clock(cfg.frozen_time),
        ), self.ctx.llm)
        self._mind = dialogue
        pump = self.tasks.spawn(self._pump(), "pump")
        try:
            await self._conversation(dialogue)
        finally:
            if pump is not None:
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)
            await self._drop_draft()
            await self.stream.close()
            if self._judge is not None:
                await self._judge.close()

    def _at_pause(self, turn: Turn, snapshot: Utterance) -> None:
        """A pause in the caller's speech: guess the words, before the turn is over (their
        own cues may end it; the end-of-turn model, asked at a longer pause, waits for
        them)."""
        guess = turn.at_pause(snapshot)
        if guess is not None:
            if self._judge is not None:
                self._judge.guessed(snapshot.speech_end, guess)
            guess.add_done_callback(self._guessed)

    def _guessed(self, guess: asyncio.Future[Transcript]) -> None:
        """The words guessed at a pause: the answer to them can be drafted
        (`call/draft.py`)."""
        if guess.cancelled() or guess.exception() is not None:
            return
        text = guess.result().text
        if self.ctx.cfg.turn.draft_reply and self._mind is not None and text.strip():
            self._drafting = self.tasks.spawn(self._redraft(self._mind, text), "draft")

    async def _redraft(self, mind: Mind[Any], text: str) -> None:
        await self._drop_draft()
        self._draft = await ReplyDraft.of(mind, text,
                                          self.ctx.engines.voice(self.language, self.line))

    async def _drop_draft(self) -> None:
        draft, self._draft = self._draft, None
        if draft is not None:
            await draft.drop()

    def _context(self, dialogue: Mind[Any], spoken: Spoken) -> str | None:
        """What the recogniser is told the next turn answers. Only a dictated number gains
        from it (the question and the persona's names: 18 of 20 human numbers exact instead
        of 16, docs/decisions.md); on other turns a prompt cost time and words."""
        if not dialogue.awaits_number():
            return None
        return recogniser_prompt(spoken.said, persona_words(self._persona(), self.language))

    def _persona(self) -> Persona:
        """The line's persona; a missing or broken one is logged and the default answers,
        so that a typo in the dialplan's SECRETARY_PERSONA does not drop the call."""
        try:
            return self.ctx.personas(self.persona_name)
        except ConfigError as exc:
            log.error("call %s: persona %r: %s; using %r", self.call_id, self.persona_name,
                      exc, self.ctx.cfg.persona)
            self.persona_name = self.ctx.cfg.persona
            return self.ctx.personas(self.persona_name)

    async def _pump(self) -> None:
        await self.listener.pump()
        if not self._media_released:
            self.end(EndReason.MEDIA_LOST)  # the transport closed under a live call

    def _on_frame_sent(self, frame: bytes, at: float) -> None:
        self.listener.note_output(frame, at)
        if self.recorder is not None:
            self.recorder.secretary(frame, at)
        self.watch.secretary_audio(frame, self.listener.rate)
        self.speaking.set("secretary")

    def _heard(self, frame: bytes) -> None:
        """A frame from the caller, before the listener takes it: for the live view."""
        self.watch.caller_audio(frame, self.listener.rate)
        if self.speaking.who != "secretary":
            voiced = self._loop.time() - self.listener.last_voiced_at < CALLER_SPEAKING_HOLD_S
            self.speaking.set("caller" if voiced else None)

    def _publish_turn(self, who: Literal["caller", "secretary"], text: str, start: float,
                      end: float) -> None:
        if text:
            self.watch.turn(who, text, self.record.wall(start), self.record.wall(end))

    async def _conversation(self, dialogue: Mind) -> None:
        cfg = self.ctx.cfg.turn
        waits = RestWaits(cfg.digit_wait_ms, cfg.phrase_wait_ms, cfg.end_silence_ms)
        spoken = await self._speak(dialogue.greeting(), timings=TurnTimings(),
                                   protect_s=cfg.protect_greeting_ms / 1000)
        prompted = False
        while True:
            wait_s = cfg.goodbye_after_s - cfg.reprompt_after_s if prompted else (
                cfg.reprompt_after_s
            )
            if not spoken.interrupted:
                await self.stream.discard()  # what it heard since the last turn ended
            await self._drop_draft()
            self.stream.expect(self._context(dialogue, spoken))
            held = self._held
            turn = Turn(self.stream, self.listener, waits, self.call_id, continues=held)
            self._listening.set()
            try:
                utterance = await self.listener.next_utterance(
                    HELD_WAIT_S if held is not None else wait_s, since=listen_from(spoken),
                    on_pause=functools.partial(self._at_pause, turn),
                    on_judge=self._judge.at_pause if self._judge is not None else None,
                    finished=self._judge.finished if self._judge is not None else None,
                    wake=lambda: not self.dtmf.empty() or self._operator is not None,
                )
            finally:
                self._listening.clear()
            if self._operator is not None:  # an operator puts the caller through
                request, by = self._operator
                self._held = None
                try:
                    if await self._transfer(request, dialogue, by=by):
                        return
                finally:
                    self._operator = None  # another may be asked for from now
                continue
            if utterance is None and not self.dtmf.empty():
                reply = dialogue.on_dtmf(self.dtmf.get_nowait())
                if reply is None:
                    continue
                prompted = False
                spoken = await self._speak(reply.text, timings=TurnTimings())
                if await self._act(reply, spoken, dialogue):
                    return
                continue
            if utterance is None and held is None:
                if not prompted:
                    prompted = True
                    spoken = await self._speak(dialogue.reprompt(), timings=TurnTimings())
                    continue
                await self._speak(dialogue.goodbye(), timings=TurnTimings())
                await asyncio.sleep(HANGUP_DRAIN_S)
                return
            # the caller's turn; or, with no more speech after a withdrawn one, that turn
            self._held = None
            prompted = False
            spoken, reply = await self._answer(turn, utterance, dialogue)
            if await self._act(reply, spoken, dialogue):
                return

    async def _act(self, reply: Reply, spoken: Spoken, dialogue: Mind) -> bool:
        """Carry out what the reply asks beyond words: keep a message, transfer, hang up.
        True when the conversation is over."""
        if reply.message is not None:
            await self._keep_message(reply.message)
        if reply.transfer is not None:
            return await self._transfer(reply.transfer, dialogue)
        if reply.end_call:
            await asyncio.sleep(HANGUP_DRAIN_S)
            return True
        return False

    async def _keep_message(self, message: Message) -> None:
        """Store the caller's message (with the call's number and language where it has
        none) and hand it to the staff's notifications."""
        message = replace(message, caller_id=message.caller_id or self.caller_id or None,
                          language=message.language or self.language)
        persona = self.ctx.personas(self.persona_name)
        staff = StaffMessage.from_message(
            message, company=persona.company.get(message.language), call_id=self.call_id)
        message_id = await self.record.message(staff)
        log.info("call %s: message %d kept: %s", self.call_id, message_id, staff)
        if self.ctx.on_message is not None:
            self.ctx.on_message(message_id, staff)

    # --- transfers -----------------------------------------------------------------------
    async def _keep_unfinished(self) -> None:
        """A message begun and not confirmed when the call ends (the caller hung up, the
        line dropped, the app stopped) is kept with what was gathered: a receptionist
        would rather have a name and a number than nothing. A caller put through to
        staff tells them instead."""
        if self.ended_by is EndReason.TRANSFERRED:
            return
        try:
            message = self._mind.unfinished() if self._mind is not None else None
            if message is not None:
                await self._keep_message(message)
        except Exception:
            log.exception("call %s: could not keep the unfinished message", self.call_id)

    async def _transfer(self, request: TransferRequest, dialogue: Mind,
                        by: str | None = None) -> bool:
        """Hand the caller to a human (`by` a console operator, None: the secretary). True
        when the caller has left the conversation (blind transfer, or accepted and bridged
        until someone hangs up)."""
        ari, cfg = self.ctx.ari, self.ctx.cfg
        self.watch.transferred(request.target, by)
        await asyncio.sleep(HANGUP_DRAIN_S)
        if request.mode == "blind":
            log.info("call %s: blind transfer to %s", self.call_id, request.target)
            self._caller_released = True
            self.ended_by = EndReason.TRANSFERRED
            await self.record.transferred(request.target, by)
            await ari.continue_in_dialplan(
                self.channel_id, cfg.transfer.blind_context, request.target
            )
            return True
        self._transfers += 1
        staff = StaffCall(
            ari, cfg.media, cfg.transfer, self.ctx.engines.voice(self.language, self.line),
            self.call_id, self._transfers,
            route=lambda channel_id: self.ctx.route(channel_id, self),
        )
        self._staff = staff
        assert self.leg is not None
        ringing = ringback_task(self.leg.transport) if cfg.transfer.ringback else None
        try:
            target = StaffTarget(request.target, request.announcement, self.language)
            outcome = await staff.run(
                target, caller_id=self.caller_id, caller_channel=self.channel_id
            )
        finally:
            if ringing is not None:
                ringing.cancel()
                await asyncio.gather(ringing, return_exceptions=True)
        log.info("call %s: attended transfer to %s: %s", self.call_id, request.target, outcome)
        if outcome == "accepted":
            await self._hand_over(staff, request.target, by)
            return True
        self._staff = None
        reason: FailReason = outcome  # every outcome but "accepted"
        reply = dialogue.transfer_failed(request, reason)
        spoken = await self._speak(reply.text, timings=TurnTimings(transfer_failed=reason))
        return await self._act(reply, spoken, dialogue)

    async def _hand_over(self, staff: StaffCall, target: str, by: str | None) -> None:
        """Bridge the staff member with the caller, drop our own media leg, and stay until
        one of them hangs up."""
        ari = self.ctx.ari
        self._media_released = True
        self._peer = staff.channel_id
        assert self.leg is not None
        await self.leg.transport.close()
        await ari.hangup(self.media_channel_id)
        await ari.add_to_bridge(self.bridge_id, staff.channel_id)
        await self.record.transferred(target, by)
        waiting: set[asyncio.Future[Any]] = {self._caller_gone, staff.hung_up}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        self.ended_by = EndReason.TRANSFERRED

    async def _answer(
        self, turn: Turn, utterance: Utterance | None, dialogue: Mind
    ) -> tuple[Spoken, Reply]:
        """One turn: hear, answer, speak. `utterance` None: the turn continues one withdrawn
        when the caller seemed to go on (see `withdrawn_unheard`), and no more came."""
        transcript, cue = await self._hear(turn, utterance, dialogue)
        audio = turn.audio
        assert audio is not None
        self._publish_turn("caller", transcript.text, audio.speech_start, audio.speech_end)
        if turn.replaces:  # this turn's answer replaces the rows of the one withdrawn
            await self.record.drop_turns(turn.replaces)
        t_reply = self._loop.time()
        before = dialogue.checkpoint()
        answer = dialogue.answer(transcript.text)
        t_ready = self._loop.time()
        draft = await self._drafted(answer)
        turn.timings.drafted = draft is not None
        log.info("call %s: caller said %r -> %s", self.call_id, transcript.text, answer.intent)
        origin = self.recorder.origin if self.recorder is not None else None
        caller_row = await self.record.turn(
            "caller", transcript.text, audio.speech_start, audio.speech_end,
            turn.caller_figures(origin).as_record(),
        )
        turn.timings.reply_ms = (t_ready - t_reply) * 1000
        turn.timings.mind = answer.figures  # a model writing on fills it in as it speaks
        lead = await cue.said() if cue is not None else None
        if lead is not None and lead.barge_onset is not None:
            # the caller spoke over the cue. Once their words were in: the turn goes on, and
            # nothing of its answer is begun. Before: the turn took in what they said, and
            # the cue, cut before their last word, is no lead of the answer
            if lead.barge_onset > audio.speech_end:
                if draft is not None:
                    await draft.drop()
                return self._withdraw(turn, dialogue, before, [caller_row], lead)
            lead = None
        if lead is not None and lead.first_audio is not None:
            turn.timings.hold_cue_ms = (lead.first_audio - audio.speech_end) * 1000
        spoken = await self._speak(
            answer.words, timings=turn.timings, reply_ready=t_ready, speech_end=audio.speech_end,
            voice=draft.voice() if draft is not None else None, lead=lead,
        )
        if draft is not None:
            await draft.drop()  # played; or cut short, and then no more of it is made
        if withdrawn_unheard(spoken, audio.speech_end):
            log.info("call %s: the caller went on before hearing the reply to %r",
                     self.call_id, transcript.text)
            return self._withdraw(turn, dialogue, before, [caller_row, spoken.row], spoken)
        # counted as the record keeps it: a withdrawn turn is counted with the one it joins
        self.ctx.metrics.reply_spoken(self.line, turn.timings)
        if self.ctx.capacity is not None:
            self.ctx.capacity.reply_heard(turn.timings.speech.v2v_ms)
        reply = dialogue.heard(
            answer, spoken.said, interrupted=spoken.interrupted, failed=spoken.failed
        )
        return spoken, reply

    def _withdraw(self, turn: Turn, dialogue: Mind, before: Any, rows: list[int | None],
                  spoken: Spoken) -> tuple[Spoken, Reply]:
        """The caller went on before hearing the answer to `turn`: the mind forgets it,
        its rows leave the record, and the next turn continues it (`Turn.replaces`)."""
        dialogue.restore(before)
        turn.withdraw([row for row in rows if row is not None])
        self._held = turn
        return spoken, Reply("", "caller_went_on")

    async def _hear(self, turn: Turn, utterance: Utterance | None, dialogue: Mind
                    ) -> tuple[Transcript, HoldCue | None]:
        """The turn's words. If they are still awaited `turn.hold_cue_ms` after the caller's
        last word (a busy recogniser), the caller hears the hold cue meanwhile
        (call/hold_cue.py), armed again from each further speech the turn takes in unless
        one was heard whole; the last is returned to be awaited before the answer."""
        after_ms = self.ctx.cfg.turn.hold_cue_ms
        if not after_ms or utterance is None:
            return await turn.hear(utterance), None
        cues: list[HoldCue] = []

        def arm(speech: Utterance) -> None:
            """A cue for the words of `speech` (the turn's first, or more the caller went
            on with), unless the turn has had one said in full."""
            if cues:
                if cues[-1].spent():
                    return
                cues[-1].disarm()
            ended = speech.speech_end
            cues.append(HoldCue(
                self._loop, ended + after_ms / 1000, awaited=lambda: turn.words_awaited,
                quiet=lambda: self.listener.last_voiced_at <= ended + QUIET_MARGIN_S,
                say=lambda: self._say_hold_cue(dialogue),
                spawn=lambda work: self.tasks.spawn(work, "hold-cue"),
            ))

        arm(utterance)
        try:
            return await turn.hear(utterance, on_more=arm), cues[-1]
        finally:
            cues[-1].disarm()  # one begun is the call's task: stopped with the call

    async def _say_hold_cue(self, dialogue: Mind) -> Spoken:
        text = dialogue.hold_on()
        log.info("call %s: the caller's words are slow to come; saying %r meanwhile",
                 self.call_id, text)
        self.ctx.metrics.hold_cue_said(self.line)
        barge = self._arm_barge_in(self._loop.time())
        try:
            spoken = await self.speaker.say(text, self.ctx.engines.voice(self.language, self.line))
        finally:
            self.listener.disarm_barge_in()
        if barge:
            spoken.barge_onset = barge[0].onset
            log.info("call %s: the caller went on over the hold cue", self.call_id)
        return spoken

    async def _drafted(self, answer: Answer) -> ReplyDraft | None:
        """The draft of the answer's first sentence, when the answer begins with it;
        otherwise the draft is dropped (None)."""
        if self._drafting is not None:
            await asyncio.gather(self._drafting, return_exceptions=True)
            self._drafting = None
        draft = self._draft
        if draft is None:
            return None
        if isinstance(answer.words, str) and first_sentence(answer.words) == draft.piece:
            self._draft = None
            log.debug("call %s: the reply's first sentence was drafted", self.call_id)
            return draft
        await self._drop_draft()
        return None

    # --- audio out -----------------------------------------------------------------------
    async def _speak(
        self,
        text: str | AsyncIterator[str],
        *,
        timings: TurnTimings,
        protect_s: float = 0.0,
        reply_ready: float | None = None,
        speech_end: float | None = None,
        voice: TextToSpeech | None = None,
        lead: Spoken | None = None,
    ) -> Spoken:
        """Say `text`, interruptible by the caller (after `protect_s`), and record the turn
        with what was actually said; `lead`, the hold cue said just before (its words head
        the record's row)."""
        self.listener.stop_listening()
        barge = self._arm_barge_in(self._loop.time() + protect_s)
        if self._operator is not None:  # an operator's transfer waits: say nothing more
            self._loop.call_soon(self.speaker.interrupt)  # runs once `say` has begun
        try:
            voice = voice or self.ctx.engines.voice(self.language, self.line)
            if isinstance(text, str):
                spoken = await self.speaker.say(text, voice)
            else:
                spoken = await self.speaker.say_tokens(text, voice)
        except asyncio.CancelledError:  # the call ended mid-reply: record what was said
            cut = self.speaker.progress()
            timings.speech.interrupted = True
            await asyncio.shield(self.record.turn(
                "secretary", _after(lead, cut.said), lead.started if lead else cut.started,
                cut.ended, timings.as_record()
            ))
            raise
        finally:
            self.listener.disarm_barge_in()
            self.listener.ignore_until = self._loop.time() + ECHO_GUARD_S
            self.speaking.set("caller" if barge else None)
        timings.speech = SpeechFigures.of(
            spoken, barge[0] if barge else None, reply_ready=reply_ready, speech_end=speech_end,
        )
        if barge:
            spoken.barge_onset = barge[0].onset
        if spoken.interrupted:
            log.info("call %s: barged in; unsaid: %r", self.call_id, spoken.unsaid)
        if spoken.failed:
            self.ctx.metrics.engine_failed("tts")
            log.error("call %s: speech failed (%s); the caller heard %r, not %r",
                      self.call_id, spoken.error, spoken.said, spoken.unsaid)
        lost = spoken.interrupted or spoken.failed
        said = text if isinstance(text, str) and not lost else spoken.said  # what was heard
        said = _after(lead, said)
        started = lead.started if lead is not None else spoken.started
        self._publish_turn("secretary", said, started, spoken.ended)
        spoken.row = await asyncio.shield(
            self.record.turn("secretary", said, started, spoken.ended, timings.as_record())
        )
        return spoken

    def _arm_barge_in(self, after: float) -> list[BargeIn]:
        """The caller's speech from `after` (loop time) on stops what the speaker is saying
        and is shown to the console; returns the barge-ins as they come (the listener is
        disarmed by the caller of this once the speaker is done)."""
        barge: list[BargeIn] = []
        if self.ctx.cfg.turn.barge_in:
            def on_barge_in(event: BargeIn) -> None:
                barge.append(event)
                self.speaker.interrupt()
                self.watch.barge_in(self.record.wall(event.onset))

            self.listener.arm_barge_in(on_barge_in, after)
        return barge

    # --- record and teardown -------------------------------------------------------------
    async def _teardown(self) -> None:
        ari = self.ctx.ari
        await self.tasks.stop()  # the watchdog, the pump, a draft; record writes finish
        steps: list[tuple[str, Any]] = []
        if self.leg is not None:
            stats = self.leg.transport.stats
            log.info(
                "call %s: media stats received=%d sent=%d dropped=%s", self.call_id,
                stats.received, stats.sent, json.dumps(stats.dropped, sort_keys=True),
            )
            self.ctx.metrics.rtp_dropped_by(stats.dropped)
            steps.append(("close media transport", self.leg.transport.close()))
        steps.append(("hang up media channel", ari.hangup(self.media_channel_id)))
        steps.append(("destroy bridge", ari.destroy_bridge(self.bridge_id)))
        if self.ended_by is not EndReason.CALLER_HANGUP and not self._caller_released:
            steps.append(("hang up caller", ari.hangup(self.channel_id)))
        if self._peer is not None:
            steps.append(("hang up staff", ari.hangup(self._peer)))
        for what, step in steps:
            try:
                await step
            except Exception as exc:
                log.warning("call %s: %s failed: %s", self.call_id, what, exc)
        await self._keep_unfinished()
        recordings = self.recorder.close() if self.recorder is not None else None
        await self.record.close(self.ended_by or EndReason.ERROR, self.error, recordings)
        self.watch.ended((self.ended_by or EndReason.ERROR).value, time.time())
        self.ctx.metrics.call_ended(self.line, self.ended_by or EndReason.ERROR)
        log.info("call %s: ended (%s)", self.call_id, self.ended_by)


def _after(lead: Spoken | None, said: str) -> str:
    """What the caller heard of a reply, after the hold cue said before it, if one was."""
    if lead is None or not lead.said:
        return said
    return f"{lead.said} {said}".strip()
