"""The caller's side of the media leg, for the whole call.

One task (`pump`) reads every frame the transport delivers: it records it, scores it with
the VAD, and either queues it for the turn being listened to or, while the secretary
speaks, watches it for barge-in. Line echo of our own voice is not speech: a caller frame
much quieter than what we are sending at that moment is discounted.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from dataclasses import dataclass

from ari_app.config import TurnConfig
from ari_app.endpointing import EnergyEndpointer, Utterance, frame_dbfs
from ari_app.media.transport import MediaTransport
from ari_app.recorder import CallRecorder
from ari_app.vad import VoiceActivityDetector

RING_S = 1.5  # caller audio kept while we speak, so a barge-in's first words are not lost
OUTPUT_LEVEL_WINDOW_S = 0.5  # how long our own output can come back as echo


@dataclass
class BargeIn:
    onset: float  # loop time the interrupting speech began
    decided: float  # loop time barge-in was decided


class Listener:
    def __init__(
        self,
        transport: MediaTransport,
        vad: VoiceActivityDetector,
        turn: TurnConfig,
        recorder: CallRecorder | None,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.transport = transport
        self.vad = vad
        self.turn = turn
        self.recorder = recorder
        self.loop = loop
        self.rate = transport.sample_rate
        self._inbox: asyncio.Queue[tuple[bytes, float, bool]] = asyncio.Queue(maxsize=1500)
        self._ring: collections.deque[tuple[bytes, float, bool]] = collections.deque(
            maxlen=int(RING_S / 0.02)
        )
        self._output: collections.deque[tuple[float, float]] = collections.deque(maxlen=64)
        self.listening = False
        self.ignore_until = 0.0
        self.last_voiced_at = 0.0  # loop time of the last speech frame queued for a turn
        self.on_turn_frame: Callable[[bytes], None] | None = None  # a streaming recogniser
        self._barge_in: Callable[[BargeIn], None] | None = None
        self._barge_in_not_before = 0.0
        self._run_onset: float | None = None
        self._run_voiced_s = 0.0
        self._run_gap = 0

    # --- fed by the speaker --------------------------------------------------------------
    def note_output(self, frame: bytes, at: float) -> None:
        """Our own frame just sent: its level bounds what can come back as echo."""
        self._output.append((at, frame_dbfs(frame)))

    def arm_barge_in(self, callback: Callable[[BargeIn], None], not_before: float) -> None:
        self._barge_in = callback
        self._barge_in_not_before = not_before
        self._run_onset = None
        self._run_voiced_s = 0.0

    def disarm_barge_in(self) -> None:
        self._barge_in = None

    # --- the pump ------------------------------------------------------------------------
    async def pump(self) -> None:
        """Runs for the whole call; returns when the transport closes."""
        onset = self.turn.vad_threshold
        release = onset / 2  # hysteresis: speech goes on until the probability halves
        voiced = False
        while True:
            frame = await self.transport.read_frame()
            if frame is None:
                return
            now = self.loop.time()
            if self.recorder is not None:
                self.recorder.caller(frame, now)
            probability = self.vad.speech_probability(frame)
            voiced = probability >= (release if voiced else onset)
            voiced = voiced and not self._is_echo(frame, now)
            item = (frame, now, voiced)
            if self.listening:
                if now >= self.ignore_until:
                    self._put(item)
                    if voiced:
                        self.last_voiced_at = now
            else:
                self._ring.append(item)
                if self._barge_in is not None:
                    self._watch_barge_in(item)

    def _is_echo(self, frame: bytes, now: float) -> bool:
        recent = [level for at, level in self._output if now - at <= OUTPUT_LEVEL_WINDOW_S]
        if not recent:
            return False
        return frame_dbfs(frame) < max(recent) - self.turn.echo_margin_db

    def _watch_barge_in(self, item: tuple[bytes, float, bool]) -> None:
        frame, now, voiced = item
        if now < self._barge_in_not_before:
            return
        duration = len(frame) / 2 / self.rate
        if voiced:
            if self._run_onset is None:
                self._run_onset = now - duration
            self._run_voiced_s += duration
            self._run_gap = 0
        elif self._run_onset is not None:
            self._run_gap += 1
            if self._run_gap > 2:  # more than 40 ms unvoiced: a noise, not speech
                self._run_onset = None
                self._run_voiced_s = 0.0
        if self._run_onset is None or self._run_voiced_s * 1000 < self.turn.barge_in_min_speech_ms:
            return
        callback, self._barge_in = self._barge_in, None
        onset = self._run_onset
        # the interrupting words go to the next turn, from just before their onset
        self.listening = True
        for queued in self._ring:
            if queued[1] >= onset - 0.2:
                self._put(queued)
        self._ring.clear()
        if callback is not None:
            callback(BargeIn(onset=onset, decided=now))

    def _put(self, item: tuple[bytes, float, bool]) -> None:
        if self._inbox.full():
            self._inbox.get_nowait()
        self._inbox.put_nowait(item)
        if self.on_turn_frame is not None:
            self.on_turn_frame(item[0])

    # --- turns ---------------------------------------------------------------------------
    def stop_listening(self) -> None:
        self.listening = False

    async def next_utterance(
        self,
        timeout_s: float,
        *,
        keep_pending: bool = False,
        on_pause: Callable[[Utterance], None] | None = None,
        wake: Callable[[], bool] | None = None,
    ) -> Utterance | None:
        """The caller's next utterance, or None if no voice begins within `timeout_s` (a
        voice heard before then is followed until it is speech or a click).
        `keep_pending` keeps audio already queued (after a barge-in, or while a
        transcript was being checked for a number in progress). `on_pause` gets the speech
        so far once per pause of `turn.speculate_after_ms`, before the turn is over.
        `wake` returning True while the caller is not speaking (a key was pressed) ends the
        wait early with None."""
        turn = self.turn
        endpointer = EnergyEndpointer(
            self.rate,
            end_silence_s=turn.end_silence_ms / 1000,
            min_speech_s=turn.min_speech_ms / 1000,
            max_utterance_s=turn.max_utterance_s,
        )
        if not keep_pending:
            while not self._inbox.empty():
                self._inbox.get_nowait()
        self.listening = True
        deadline = self.loop.time() + timeout_s
        speculate_s = turn.speculate_after_ms / 1000
        paused_at: float | None = None  # speech end of the last pause reported
        while True:
            try:
                frame, at, voiced = await asyncio.wait_for(self._inbox.get(), timeout=0.02)
                utterance = endpointer.push(frame, at, voiced=voiced)
            except TimeoutError:
                utterance = endpointer.tick(self.loop.time())
            if utterance is not None:
                return utterance
            if on_pause is not None and 0 < speculate_s < endpointer.end_silence_s:
                snapshot = endpointer.pause(self.loop.time(), speculate_s)
                if snapshot is not None and snapshot.speech_end != paused_at:
                    paused_at = snapshot.speech_end
                    on_pause(snapshot)
            if not endpointer.in_speech and (
                (self.loop.time() > deadline and not endpointer.heard)
                or (wake is not None and wake())
            ):
                return None
