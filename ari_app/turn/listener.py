"""The caller's side of the media leg, for the whole call.

One task (`pump`) reads every frame the transport delivers: it records it, puts it on the
call's tape (`turn/tape.py`), scores it with the VAD, queues the decision for the
endpointer and, while the secretary speaks, watches it for barge-in. Line echo of our own
voice is not speech: a caller frame much quieter than what we are sending at that moment
is discounted, and so is everything just after we stop (`ignore_until`).

A turn is listened for from a point in time (`since`), never by flushing a queue: frames
queued before it are skipped, later ones all count, and the turn's audio is cut from the
tape, pre-roll included. So nothing the caller said after `since` can be lost between
the socket and the recogniser.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from dataclasses import dataclass

from ari_app.call.recorder import CallRecorder
from ari_app.config import TurnConfig
from ari_app.media.loudness import frame_dbfs
from ari_app.media.transport import MediaTransport
from ari_app.turn.endpointing import TAIL_S, EnergyEndpointer, Utterance
from ari_app.turn.tape import CallerTape
from ari_app.turn.vad import VoiceActivityDetector

OUTPUT_LEVEL_WINDOW_S = 0.5  # how long our own output can come back as echo
INBOX_S = 60.0  # frames queued for the endpointer at most (older ones are before any turn)


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
        self.tape = CallerTape(self.rate)
        self._inbox: collections.deque[tuple[bytes, float, bool]] = collections.deque(
            maxlen=int(INBOX_S / 0.02)
        )
        self._arrived = asyncio.Event()
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
        weak = self.turn.vad_weak_threshold
        voiced = False
        while True:
            frame = await self.transport.read_frame()
            if frame is None:
                return
            now = self.loop.time()
            if self.recorder is not None:
                self.recorder.caller(frame, now)
            self.tape.append(frame, now)
            probability = self.vad.speech_probability(frame)
            level = frame_dbfs(frame)
            echo = self._is_echo(level, now)
            voiced = probability >= (release if voiced else onset) and not echo
            # a turn takes a weak probability too when the frame is as loud as speech
            heard = voiced or (
                probability >= weak and level >= self.turn.vad_weak_min_dbfs and not echo
            )
            counts = heard and now >= self.ignore_until
            self._inbox.append((frame, now, counts))
            self._arrived.set()
            if self.listening and now >= self.ignore_until:
                if counts:
                    self.last_voiced_at = now
                if self.on_turn_frame is not None:
                    self.on_turn_frame(frame)
            if self._barge_in is not None:
                self._watch_barge_in((frame, now, voiced))

    def _is_echo(self, level: float, now: float) -> bool:
        """A caller frame of `level` dBFS much quieter than what we just sent."""
        recent = [out for at, out in self._output if now - at <= OUTPUT_LEVEL_WINDOW_S]
        if not recent:
            return False
        return level < max(recent) - self.turn.echo_margin_db

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
        # the interrupting words are the next turn: a streaming recogniser hears them from
        # just before their onset (the endpointer replays them from the queue, see `since`);
        # one listening already (a hold cue said mid-turn) has had them frame by frame
        if not self.listening:
            self.listening = True
            if self.on_turn_frame is not None:
                self.on_turn_frame(self.tape.cut(onset - 0.2, now + 0.02))
        if callback is not None:
            callback(BargeIn(onset=onset, decided=now))

    async def _next_item(self, timeout_s: float) -> tuple[bytes, float, bool] | None:
        if not self._inbox:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout=timeout_s)
            except TimeoutError:
                return None
        return self._inbox.popleft() if self._inbox else None

    # --- turns ---------------------------------------------------------------------------
    def stop_listening(self) -> None:
        self.listening = False

    async def next_utterance(
        self,
        timeout_s: float,
        *,
        since: float | None = None,
        on_pause: Callable[[Utterance], object] | None = None,
        on_judge: Callable[[Utterance], object] | None = None,
        finished: Callable[[float], bool] | None = None,
        wake: Callable[[], bool] | None = None,
    ) -> Utterance | None:
        """The caller's next utterance, or None if no voice begins within `timeout_s` (a
        voice heard before then is followed until it is speech or a click).
        `since` is the clock time from which the caller's frames count (the end of our
        reply, or just before a barge-in's onset); None goes on from the last turn's end
        (while a transcript is checked for a number in progress). `on_pause` gets the speech
        so far once per pause of `turn.speculate_after_ms`, before the turn is over (the
        words are guessed on it); `on_judge` gets it once the same pause has lasted
        `turn.judge_after_ms` (the end-of-turn model hears it, with that much pause);
        `finished(speech_end)` saying True for the pause under way ends the turn there
        (its words or the end-of-turn model said that the caller has finished).
        `wake` returning True while the caller is not speaking (a key was pressed) ends the
        wait early with None."""
        turn = self.turn
        endpointer = EnergyEndpointer(
            self.rate,
            end_silence_s=turn.end_silence_ms / 1000,
            min_speech_s=turn.min_speech_ms / 1000,
            max_utterance_s=turn.max_utterance_s,
            preroll_s=turn.preroll_ms / 1000,
            tail_s=turn.speculate_after_ms / 1000 or TAIL_S,
            tape=self.tape,
        )
        if since is not None:
            while self._inbox and self._inbox[0][1] < since:
                self._inbox.popleft()
        self.listening = True
        deadline = self.loop.time() + timeout_s
        speculate_s = turn.speculate_after_ms / 1000
        judge_s = max(speculate_s, turn.judge_after_ms / 1000)
        paused_at: float | None = None  # speech end of the last pause reported
        judged_at: float | None = None  # speech end of the last pause given to on_judge
        while True:
            # the endpointer's clock: the arrival of the frame it is given, or, with none
            # queued, the time now; never the time now for a frame that waited in the queue
            # (a caller heard before the deadline is followed, however late we look)
            item = await self._next_item(0.02)
            if item is not None:
                t = item[1]
                utterance = endpointer.push(item[0], t, voiced=item[2])
            else:
                t = self.loop.time()
                utterance = endpointer.tick(t)
            if utterance is not None:
                return utterance
            if on_pause is not None and 0 < speculate_s < endpointer.end_silence_s:
                snapshot = endpointer.pause(t, speculate_s)
                if snapshot is not None and snapshot.speech_end != paused_at:
                    paused_at = snapshot.speech_end
                    on_pause(snapshot)
            if on_judge is not None and 0 < judge_s < endpointer.end_silence_s:
                snapshot = endpointer.pause(t, judge_s, tail_s=judge_s)
                if snapshot is not None and snapshot.speech_end != judged_at:
                    judged_at = snapshot.speech_end
                    on_judge(snapshot)
            last = endpointer.last_voice_end
            if last is not None and last in (paused_at, judged_at) and (
                finished is not None and finished(last)
            ):
                utterance = endpointer.finish(t)
                if utterance is not None:
                    return utterance
            if not endpointer.in_speech and (
                (t > deadline and not endpointer.heard)
                or (wake is not None and wake())
            ):
                return None
