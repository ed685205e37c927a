"""What a spoken reply's timing says: the figures for its record (docs/architecture.md,
"Per-turn timing": first audio, voice to voice, our own send jitter, the barge-in stop),
and whether an interruption came too soon to be an answer to it."""

from __future__ import annotations

from ari_app.call.speaker import Spoken
from ari_app.turn.listener import BargeIn

# a caller who starts speaking sooner than this after our reply's first audio was not
# answering it: they went on with their own turn
HEARD_AFTER_S = 0.3
# nor was one who starts again this soon after their own last word, before hearing a
# whole sentence of ours: a pause inside a turn, which ended early
PAUSE_WITHIN_TURN_S = 1.2


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


def reply_timings(
    spoken: Spoken,
    barge: BargeIn | None,
    *,
    reply_ready: float | None = None,
    speech_end: float | None = None,
) -> dict[str, float]:
    """Milliseconds, from loop times: `reply_ready` is when the answer's text began (else
    the start of speaking), `speech_end` the end of the caller's speech it answers."""
    timings: dict[str, float] = {}
    if spoken.first_audio is not None:
        base = reply_ready if reply_ready is not None else spoken.started
        timings["tts_first_audio_ms"] = (spoken.first_audio - base) * 1000
        if spoken.first_chunk is not None:  # the synthesiser's own share of that
            timings["tts_engine_ms"] = (spoken.first_chunk - spoken.started) * 1000
        if speech_end is not None:
            timings["v2v_ms"] = (spoken.first_audio - speech_end) * 1000
    if spoken.send_jitter_ms:  # our own pacing: |gap - 20 ms| between frames sent
        ordered = sorted(spoken.send_jitter_ms)
        timings["send_jitter_p99_ms"] = ordered[int(0.99 * (len(ordered) - 1))]
        timings["send_jitter_max_ms"] = ordered[-1]
        timings["send_gaps"] = float(len(ordered))  # pooled over many replies by bench.py
        timings["send_gaps_over_2ms"] = float(sum(gap > 2.0 for gap in ordered))
    if spoken.interrupted:
        timings["interrupted"] = 1.0
        if barge is not None:
            timings["bargein_detect_ms"] = (barge.decided - barge.onset) * 1000
            timings["bargein_stop_ms"] = (spoken.ended - barge.onset) * 1000
    return timings
