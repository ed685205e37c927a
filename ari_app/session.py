"""One call, from StasisStart to the last hangup: answer, bridge, media leg, then the
conversation (greet, listen, transcribe, reply, speak) and a clean teardown that leaves
nothing behind in Asterisk and always closes the call's record."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ari_app.ari.client import AriClient
from ari_app.config import Config
from ari_app.dialogue import Dialogue
from ari_app.endpointing import EnergyEndpointer, Utterance
from ari_app.engines import Engines
from ari_app.media.pacer import FramePacer, FrameSplitter
from ari_app.media.resample import Resampler, resample
from ari_app.media_leg import MediaLeg, open_media_leg
from ari_app.persona import Persona
from ari_app.recorder import CallRecorder
from ari_app.storage import CallStore

log = logging.getLogger(__name__)

HANGUP_DRAIN_S = 0.5  # let the last words of a goodbye leave before hanging up
ECHO_GUARD_S = 0.25  # ignore the caller's side just after we stop speaking
MAX_SILENT_TURNS = 2  # no input twice in a row: say goodbye and hang up
HANGUP_EVENTS = {"ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"}


class MediaLost(Exception):
    """The media leg closed under a live call."""


@dataclass
class CallContext:
    """What every call needs from the application."""

    cfg: Config
    ari: AriClient
    engines: Engines
    store: CallStore
    personas: Callable[[str], Persona]
    route: Callable[[str, CallSession], None]  # send events of this channel id to the session


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
        name: str = channel.get("name", "")
        self.endpoint = name.rsplit("-", 1)[0] if "-" in name else name
        self.bridge_id = f"secretary-{self.call_id}"
        self.media_channel_id = f"secretary-media-{self.call_id}"
        self.ended_by: str | None = None
        self.error: str | None = None
        self.leg: MediaLeg | None = None
        self.recorder: CallRecorder | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()
        self._media_started: asyncio.Future[None] = self._loop.create_future()
        self._inbox: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue(maxsize=500)
        self._listening = False
        self._ignore_until = 0.0

    # --- events, routed here by the app --------------------------------------------------
    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        channel_id = (event.get("channel") or {}).get("id")
        if channel_id == self.media_channel_id:
            if kind == "StasisStart" and not self._media_started.done():
                self._media_started.set_result(None)
            elif kind in HANGUP_EVENTS:
                self.end("media_lost")
        elif channel_id == self.channel_id and kind in HANGUP_EVENTS:
            self.end("caller_hangup")

    def end(self, reason: str) -> None:
        """End the call from outside the conversation (hangup, lost media, shutdown)."""
        if self.ended_by is not None:
            return
        self.ended_by = reason
        log.info("call %s: ending (%s)", self.call_id, reason)
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()

    # --- the call ------------------------------------------------------------------------
    async def run(self) -> None:
        self._task = asyncio.current_task()
        store = self.ctx.store
        try:
            await store.start_call(
                self.call_id, self.channel_id, self.line, self.endpoint, self.caller_id,
                self.language,
            )
        except Exception:
            log.exception("call %s: could not open its record", self.call_id)
        log.info(
            "call %s: channel %s line %s (%s) from %r",
            self.call_id, self.channel_id, self.line, self.language, self.caller_id,
        )
        try:
            await self._converse()
            if self.ended_by is None:
                self.ended_by = "app_hangup"
        except asyncio.CancelledError:
            if self.ended_by is None:  # cancelled from outside: the app is stopping
                self.ended_by = "app_shutdown"
                await asyncio.shield(self._teardown())
                raise
        except MediaLost:
            self.ended_by = self.ended_by or "media_lost"
        except Exception as exc:
            log.exception("call %s: failed", self.call_id)
            self.ended_by = self.ended_by or "error"
            self.error = f"{exc.__class__.__name__}: {exc}"
        await asyncio.shield(self._teardown())

    async def _converse(self) -> None:
        ari = self.ctx.ari
        cfg = self.ctx.cfg
        await ari.answer(self.channel_id)
        await ari.create_bridge(self.bridge_id, name=f"secretary call {self.call_id}")
        await ari.add_to_bridge(self.bridge_id, self.channel_id)
        self.ctx.route(self.media_channel_id, self)
        self.leg = await open_media_leg(
            ari, cfg.media, self.media_channel_id, self.bridge_id, self._media_started
        )
        log.info("call %s: media leg %s", self.call_id, self.leg.describe())
        if cfg.storage.record_audio:
            self.recorder = CallRecorder(
                cfg.storage.recordings_dir, self.call_id, self.leg.transport.sample_rate
            )
        dialogue = Dialogue(self.ctx.personas(self.persona_name), self.language)
        pump = asyncio.create_task(self._pump(), name=f"pump-{self.call_id}")
        try:
            await self._say(dialogue.greeting(), reply_ready=None, timings={})
            silent_turns = 0
            while True:
                utterance = await self._listen()
                if utterance is None:
                    silent_turns += 1
                    reply = dialogue.reply("")
                    if silent_turns >= MAX_SILENT_TURNS:
                        await self._say(dialogue.goodbye(), reply_ready=None, timings={})
                        await asyncio.sleep(HANGUP_DRAIN_S)
                        return
                    await self._say(reply.text, reply_ready=None, timings={})
                    continue
                silent_turns = 0
                if await self._answer(utterance, dialogue):
                    await asyncio.sleep(HANGUP_DRAIN_S)
                    return
        finally:
            pump.cancel()

    async def _answer(self, utterance: Utterance, dialogue: Dialogue) -> bool:
        """One turn: transcribe, reply, speak. True when the call should end."""
        stt = self.ctx.engines.stt
        pcm = resample(utterance.pcm, self.leg_rate, stt.sample_rate)
        t_stt = self._loop.time()
        transcript = await stt.transcribe(pcm, self.language)
        t_reply = self._loop.time()
        reply = dialogue.reply(transcript.text)
        t_ready = self._loop.time()
        log.info("call %s: caller said %r -> %s", self.call_id, transcript.text, reply.intent)
        await self._store_turn(
            "caller", transcript.text, utterance.speech_start, utterance.speech_end, {}
        )
        timings = {
            "endpoint_ms": (utterance.detected_at - utterance.speech_end) * 1000,
            "stt_ms": (t_reply - t_stt) * 1000,
            "reply_ms": (t_ready - t_reply) * 1000,
        }
        await self._say(reply.text, reply_ready=t_ready, timings=timings,
                        speech_end=utterance.speech_end)
        return reply.end_call

    @property
    def leg_rate(self) -> int:
        assert self.leg is not None
        return self.leg.transport.sample_rate

    # --- audio out -----------------------------------------------------------------------
    async def _say(
        self,
        text: str,
        *,
        reply_ready: float | None,
        timings: dict[str, float],
        speech_end: float | None = None,
    ) -> None:
        assert self.leg is not None
        transport = self.leg.transport
        tts = self.ctx.engines.voice(self.language)
        rate = transport.sample_rate
        splitter = FrameSplitter(rate)
        pacer = FramePacer()
        resampler: Resampler | None = None
        started = self._loop.time()
        first_audio: float | None = None
        self._listening = False

        async def send(frame: bytes) -> None:
            # write now, then wait for the next 20 ms tick: the clock paces, not the TTS
            nonlocal first_audio
            now = self._loop.time()
            if first_audio is None:
                first_audio = now
            await transport.write_frame(frame)
            if self.recorder is not None:
                self.recorder.secretary(frame, now)
            await pacer.wait()

        completed = False
        try:
            async for chunk in tts.synthesize(text):
                if resampler is None:
                    resampler = Resampler(tts.sample_rate, rate)
                for frame in splitter.push(resampler.process(chunk)):
                    await send(frame)
            tail = resampler.flush() if resampler is not None else b""
            for frame in [*splitter.push(tail), *splitter.flush()]:
                await send(frame)
            completed = True
        finally:
            self._ignore_until = self._loop.time() + ECHO_GUARD_S
            # the turn is recorded even when the caller hung up in the middle of it
            if first_audio is not None:
                base = reply_ready if reply_ready is not None else started
                timings["tts_first_audio_ms"] = (first_audio - base) * 1000
                if speech_end is not None:
                    timings["v2v_ms"] = (first_audio - speech_end) * 1000
            if not completed:
                timings["interrupted"] = 1.0
            await asyncio.shield(
                self._store_turn("secretary", text, started, self._loop.time(), timings)
            )

    # --- audio in ------------------------------------------------------------------------
    async def _pump(self) -> None:
        """Read the media leg for the whole call: record everything, hand frames to the
        listener while it listens, and end the call if the leg closes."""
        assert self.leg is not None
        transport = self.leg.transport
        while True:
            frame = await transport.read_frame()
            if frame is None:
                self.end("media_lost")
                return
            now = self._loop.time()
            if self.recorder is not None:
                self.recorder.caller(frame, now)
            if self._listening and now >= self._ignore_until:
                if self._inbox.full():
                    self._inbox.get_nowait()
                self._inbox.put_nowait((frame, now))

    async def _listen(self) -> Utterance | None:
        turn = self.ctx.cfg.turn
        endpointer = EnergyEndpointer(
            self.leg_rate,
            threshold_dbfs=turn.energy_threshold_dbfs,
            end_silence_s=turn.end_silence_ms / 1000,
            min_speech_s=turn.min_speech_ms / 1000,
            max_utterance_s=turn.max_utterance_s,
        )
        while not self._inbox.empty():
            self._inbox.get_nowait()
        self._listening = True
        deadline = self._loop.time() + turn.no_input_timeout_s
        try:
            while True:
                try:
                    frame, at = await asyncio.wait_for(self._inbox.get(), timeout=0.05)
                    utterance = endpointer.push(frame, at)
                except TimeoutError:
                    utterance = endpointer.tick(self._loop.time())
                if utterance is not None:
                    return utterance
                if not endpointer.in_speech and self._loop.time() > deadline:
                    return None
        finally:
            self._listening = False

    # --- record and teardown -------------------------------------------------------------
    def _wall(self, loop_time: float) -> float:
        return time.time() - (self._loop.time() - loop_time)

    async def _store_turn(
        self,
        who: Literal["caller", "secretary"],
        text: str,
        start: float,
        end: float,
        timings: dict[str, float],
    ) -> None:
        try:
            await self.ctx.store.add_turn(
                self.call_id, who, text, self._wall(start), self._wall(end),
                {k: round(v, 1) for k, v in timings.items()},
            )
        except Exception:
            log.exception("call %s: could not store a turn", self.call_id)

    async def _teardown(self) -> None:
        ari = self.ctx.ari
        steps: list[tuple[str, Any]] = []
        if self.leg is not None:
            stats = self.leg.transport.stats
            log.info(
                "call %s: media stats received=%d sent=%d dropped=%s", self.call_id,
                stats.received, stats.sent, json.dumps(stats.dropped, sort_keys=True),
            )
            steps.append(("close media transport", self.leg.transport.close()))
        steps.append(("hang up media channel", ari.hangup(self.media_channel_id)))
        steps.append(("destroy bridge", ari.destroy_bridge(self.bridge_id)))
        if self.ended_by != "caller_hangup":
            steps.append(("hang up caller", ari.hangup(self.channel_id)))
        for what, step in steps:
            try:
                await step
            except Exception as exc:
                log.warning("call %s: %s failed: %s", self.call_id, what, exc)
        store = self.ctx.store
        try:
            if self.recorder is not None:
                caller_wav, secretary_wav = self.recorder.close()
                await store.set_recordings(self.call_id, str(caller_wav), str(secretary_wav))
            await store.end_call(self.call_id, self.ended_by or "error", self.error)
        except Exception:
            log.exception("call %s: could not close its record", self.call_id)
        log.info("call %s: ended (%s)", self.call_id, self.ended_by)
