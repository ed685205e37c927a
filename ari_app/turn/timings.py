"""A turn's figures, typed: how long each stage took (docs/architecture.md, "Per-turn
timing"), how the words were heard, what the mind and the synthesiser measured, and whether
an interruption came too soon to be an answer to our reply.

The call record keeps them as a flat JSON object of numbers (`as_record`), the shape the
reports, the API and the benchmarks read: a flag is 1.0 when set and absent otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ari_app.call.speaker import Spoken
from ari_app.mind.mind import MindFigures
from ari_app.turn.listener import BargeIn

# a caller who starts speaking sooner than this after our reply's first audio was not
# answering it: they went on with their own turn
HEARD_AFTER_S = 0.3
# nor was one who starts again this soon after their own last word, before hearing a
# whole sentence of ours: a pause inside a turn, which ended early
PAUSE_WITHIN_TURN_S = 1.2

# how the turn's words were got: a streaming recogniser's final, the guess made at the
# pause that ended the turn, or a transcription of the finished turn
HeardBy = Literal["stream", "guess", "batch"]


def withdrawn_unheard(spoken: Spoken, speech_end: float | None = None) -> bool:
    """The caller started speaking before our reply could have reached them, or so soon
    after their own words that it was a pause in their turn: they were still on their own
    turn. The reply is withdrawn and the two parts of their turn are answered as one.
    `speech_end` is the end of the caller's speech the reply answered."""
    if not spoken.interrupted or spoken.said or spoken.barge_onset is None:
        return False
    if speech_end is not None and spoken.barge_onset - speech_end < PAUSE_WITHIN_TURN_S:
        return True
    return spoken.first_audio is None or spoken.barge_onset < spoken.first_audio + HEARD_AFTER_S


@dataclass
class SpeechFigures:
    """How one reply was played: from the speaker's `Spoken` and the barge-in, if any."""

    tts_first_audio_ms: float | None = None  # answer's text began -> first frame sent
    tts_engine_ms: float | None = None  # the synthesiser's own share of that
    v2v_ms: float | None = None  # end of the caller's speech -> our first frame sent
    send_jitter_ms: list[float] = field(default_factory=list)  # |gap - 20 ms| per frame
    interrupted: bool = False
    bargein_detect_ms: float | None = None
    bargein_stop_ms: float | None = None
    tts_failed: bool = False

    @classmethod
    def of(
        cls,
        spoken: Spoken,
        barge: BargeIn | None,
        *,
        reply_ready: float | None = None,
        speech_end: float | None = None,
    ) -> SpeechFigures:
        """From loop times: `reply_ready` is when the answer's text began (else the start
        of speaking), `speech_end` the end of the caller's speech it answers."""
        figures = cls(send_jitter_ms=list(spoken.send_jitter_ms),
                      interrupted=spoken.interrupted, tts_failed=spoken.failed)
        if spoken.first_audio is not None:
            base = reply_ready if reply_ready is not None else spoken.started
            figures.tts_first_audio_ms = (spoken.first_audio - base) * 1000
            if spoken.first_chunk is not None:
                figures.tts_engine_ms = (spoken.first_chunk - spoken.started) * 1000
            if speech_end is not None:
                figures.v2v_ms = (spoken.first_audio - speech_end) * 1000
        if spoken.interrupted and barge is not None:
            figures.bargein_detect_ms = (barge.decided - barge.onset) * 1000
            figures.bargein_stop_ms = (spoken.ended - barge.onset) * 1000
        return figures

    def as_record(self) -> dict[str, float]:
        record = _numbers(tts_first_audio_ms=self.tts_first_audio_ms,
                          tts_engine_ms=self.tts_engine_ms, v2v_ms=self.v2v_ms)
        if self.send_jitter_ms:  # our own pacing; pooled over many replies by bench.py
            ordered = sorted(self.send_jitter_ms)
            record["send_jitter_p99_ms"] = ordered[int(0.99 * (len(ordered) - 1))]
            record["send_jitter_max_ms"] = ordered[-1]
            record["send_gaps"] = float(len(ordered))
            record["send_gaps_over_2ms"] = float(sum(gap > 2.0 for gap in ordered))
        record.update(_numbers(interrupted=self.interrupted,
                               bargein_detect_ms=self.bargein_detect_ms,
                               bargein_stop_ms=self.bargein_stop_ms,
                               tts_failed=self.tts_failed))
        return record


@dataclass
class TurnTimings:
    """The figures of one exchange: the caller's turn heard, the answer made, the reply
    played. Kept on the secretary's row of the record, the reply's."""

    endpoint_ms: float | None = None  # end of the caller's speech -> turn judged over
    stt_ms: float | None = None  # turn judged over -> words ready
    reply_ms: float | None = None  # words -> the answer's text began
    heard_by: HeardBy | None = None
    stt_remote_ms: float | None = None  # the inference server's answer time (stt.remote)
    stt_remote: bool = False  # the server heard the turn (else the local engine did)
    merged: bool = False  # two parts of the caller's turn answered as one
    drafted: bool = False  # the reply's first sentence was synthesised at the pause
    hold_cue_ms: float | None = None  # end of the caller's speech -> the hold cue heard
    mind: MindFigures = field(default_factory=MindFigures)
    speech: SpeechFigures = field(default_factory=SpeechFigures)
    transfer_failed: str | None = None  # why a transfer did not happen, said after it

    def as_record(self) -> dict[str, float]:
        record = _numbers(endpoint_ms=self.endpoint_ms, stt_ms=self.stt_ms,
                          reply_ms=self.reply_ms, merged_turns=self.merged,
                          stt_streaming=self.heard_by == "stream",
                          stt_speculative=self.heard_by == "guess",
                          reply_drafted=self.drafted, hold_cue_ms=self.hold_cue_ms,
                          stt_remote_ms=self.stt_remote_ms,
                          stt_remote=self.stt_remote)
        if self.transfer_failed is not None:
            record[f"transfer_{self.transfer_failed}"] = 1.0
        record.update(_numbers(llm_first_event_ms=self.mind.first_event_ms,
                               llm_first_token_ms=self.mind.first_token_ms,
                               llm_filler=self.mind.filler,
                               llm_unavailable=self.mind.unavailable))
        record.update(self.speech.as_record())
        return record


@dataclass(frozen=True)
class CallerFigures:
    """What the caller's row of the record holds beside the words: where the turn's audio
    lies in the call's recording (seconds from its start), or that it was a key press."""

    audio_from_s: float | None = None
    audio_to_s: float | None = None
    dtmf: bool = False

    def as_record(self) -> dict[str, float]:
        return _numbers(audio_from_s=self.audio_from_s, audio_to_s=self.audio_to_s,
                        dtmf=self.dtmf)


def _numbers(**values: float | bool | None) -> dict[str, float]:
    """The record's shape: numbers as they are, a set flag as 1.0, the rest left out."""
    record: dict[str, float] = {}
    for key, value in values.items():
        if value is True:
            record[key] = 1.0
        elif value is not None and value is not False:
            record[key] = float(value)
    return record
