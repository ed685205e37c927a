"""End-of-turn detection on the caller's audio: speech/silence per frame (from a VAD, or
from the frame's level) and the silence that ends a turn.

Frames arrive only while Asterisk has audio to send, so time without a frame counts
as silence: `tick(now)` lets the listener end a turn when the caller's side goes quiet
and Asterisk stops sending.
"""

from __future__ import annotations

from dataclasses import dataclass

from ari_app.media.loudness import frame_dbfs
from ari_app.turn.tape import CallerTape


@dataclass
class Utterance:
    pcm: bytes  # the caller's audio from `audio_start` to the end of the turn, off the tape
    speech_start: float  # clock time of the first voiced frame
    speech_end: float  # clock time of the end of the last voiced frame
    detected_at: float  # clock time the end of turn was decided
    audio_start: float = 0.0  # clock time of pcm[0]: the speech start less the pre-roll
    audio_end: float = 0.0  # clock time pcm ends: the speech end and a short tail


PREROLL_S = 0.3
"""Audio kept before the first voiced frame: the detector fires late on a soft onset (a
quiet first syllable is part of the word), and the rule that speech lasts `min_speech_s`
before it counts must not cost its beginning."""
TAIL_S = 0.25
"""Audio kept after the last voiced frame: the detector lets go early on a trailing-off
word. A turn's audio ends here whenever the turn is decided, so a guess made at a pause of
this length and the finished turn hear the very same audio (and so say the same words)."""


class EnergyEndpointer:
    """Decides one utterance (speech per frame from the caller's VAD, or from the level
    when none is given): speech starts after `min_speech_s` of voiced frames and ends after
    `end_silence_s` with no voiced frame (or at `max_utterance_s`).

    It keeps no audio of its own: an utterance's audio is cut from the call's `tape`, from
    `preroll_s` before the first voiced frame to `tail_s` after the last (or to the moment
    the turn ended, if sooner). Given no tape, it keeps one and puts every pushed frame on it
    (standalone use)."""

    def __init__(
        self,
        sample_rate: int,
        threshold_dbfs: float = -45.0,
        end_silence_s: float = 0.6,
        min_speech_s: float = 0.2,
        max_utterance_s: float = 15.0,
        preroll_s: float = PREROLL_S,
        tape: CallerTape | None = None,
        tail_s: float = TAIL_S,
    ) -> None:
        self.sample_rate = sample_rate
        self.threshold_dbfs = threshold_dbfs
        self.end_silence_s = end_silence_s
        self.min_speech_s = min_speech_s
        self.max_utterance_s = max_utterance_s
        self.preroll_s = preroll_s
        self.tail_s = tail_s
        self._own_tape = tape is None
        self.tape = tape if tape is not None else CallerTape(sample_rate)
        self.reset()

    def reset(self) -> None:
        self._voiced_s = 0.0
        self._first_voice: float | None = None
        self._last_voice_end: float | None = None
        self.in_speech = False

    def push(self, pcm: bytes, now: float, voiced: bool | None = None) -> Utterance | None:
        """Feed a frame received at `now` (clock time of its arrival). `voiced` comes from
        a VAD when there is one; otherwise the frame's level decides."""
        duration = len(pcm) / 2 / self.sample_rate
        if voiced is None:
            voiced = frame_dbfs(pcm) >= self.threshold_dbfs
        if self._own_tape:
            self.tape.append(pcm, now)
        if voiced:
            if self._first_voice is None:
                self._first_voice = now - duration
            self._voiced_s += duration
            self._last_voice_end = now
            if not self.in_speech and self._voiced_s >= self.min_speech_s:
                self.in_speech = True
        if not self.in_speech:
            if not voiced and self._last_voice_end is not None:
                if now - self._last_voice_end > self.end_silence_s:
                    self._voiced_s = 0.0  # a click, not speech
                    self._first_voice = None
            return None
        return self.tick(now)

    @property
    def heard(self) -> bool:
        """A voiced frame came that may yet begin speech (or be dropped as a click)."""
        return self._first_voice is not None

    @property
    def last_voice_end(self) -> float | None:
        """Clock time the last voiced frame ended (None before any speech)."""
        return self._last_voice_end if self.in_speech else None

    def finish(self, now: float) -> Utterance | None:
        """End the turn now (the caller was judged to have finished at this pause)."""
        if not self.in_speech or self._first_voice is None:
            return None
        utt = self._utterance(now)
        self.reset()
        return utt

    def _utterance(self, now: float, tail_s: float | None = None) -> Utterance:
        assert self._first_voice is not None and self._last_voice_end is not None
        audio_start = self._first_voice - self.preroll_s
        audio_end = min(now, self._last_voice_end + (self.tail_s if tail_s is None else tail_s))
        return Utterance(
            self.tape.cut(audio_start, audio_end), self._first_voice, self._last_voice_end,
            now, audio_start, audio_end,
        )

    def pause(self, now: float, after_s: float, tail_s: float | None = None) -> Utterance | None:
        """The speech so far, if the caller has been quiet for `after_s` (less than the end
        of turn): what a speculative transcription can start on. The turn goes on. Its
        audio ends `tail_s` after the last voiced frame (the turn's own tail if None)."""
        if not self.in_speech or self._last_voice_end is None or self._first_voice is None:
            return None
        if now - self._last_voice_end < after_s:
            return None
        return self._utterance(now, tail_s)

    def tick(self, now: float) -> Utterance | None:
        """Check the clock: has the caller been quiet long enough to end the turn?"""
        if not self.in_speech or self._last_voice_end is None or self._first_voice is None:
            return None
        quiet = now - self._last_voice_end
        too_long = now - self._first_voice >= self.max_utterance_s
        if quiet < self.end_silence_s and not too_long:
            return None
        utt = self._utterance(now)
        self.reset()
        return utt
