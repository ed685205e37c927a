"""The energy endpointer on synthetic frames (tone = speech, zeros = silence)."""

import numpy as np

from ari_app.media.loudness import frame_dbfs
from ari_app.turn.endpointing import EnergyEndpointer

RATE = 8000
FRAME_S = 0.02


def tone(level: float = 0.3) -> bytes:
    t = np.arange(int(RATE * FRAME_S)) / RATE
    return (np.sin(2 * np.pi * 440 * t) * level * 32767).astype("<i2").tobytes()


SILENCE = bytes(int(RATE * FRAME_S) * 2)


def test_levels() -> None:
    assert frame_dbfs(SILENCE) == -120.0
    assert -14 < frame_dbfs(tone(0.3)) < -10  # sine RMS: 0.3/sqrt(2) = -13.5 dBFS


def feed(ep: EnergyEndpointer, frames: list[bytes], start: float = 0.0):
    now = start
    for f in frames:
        now += FRAME_S
        result = ep.push(f, now)
        if result is not None:
            return result, now
    return None, now


def test_turn_ends_after_silence_frames() -> None:
    ep = EnergyEndpointer(RATE, end_silence_s=0.6, min_speech_s=0.2)
    utt, _now = feed(ep, [SILENCE] * 10 + [tone()] * 50 + [SILENCE] * 40)
    assert utt is not None
    assert abs(utt.speech_start - 0.2) < 0.03
    assert abs(utt.speech_end - 1.2) < 0.03
    assert 0.6 <= utt.detected_at - utt.speech_end < 0.65
    # the utterance holds the speech plus a short pre-roll, not the leading silence
    assert 1.0 <= len(utt.pcm) / 2 / RATE <= 1.0 + 0.2 + 0.65


def test_turn_ends_when_frames_stop_arriving() -> None:
    """Asterisk sends nothing while the caller is quiet: the clock alone ends the turn."""
    ep = EnergyEndpointer(RATE, end_silence_s=0.6)
    utt, now = feed(ep, [tone()] * 30)
    assert utt is None and ep.in_speech
    assert ep.tick(now + 0.3) is None
    utt = ep.tick(now + 0.61)
    assert utt is not None and abs(utt.speech_end - now) < 1e-9


def test_click_is_not_speech() -> None:
    ep = EnergyEndpointer(RATE, min_speech_s=0.2)
    utt, now = feed(ep, [tone()] * 3 + [SILENCE] * 100)
    assert utt is None and not ep.in_speech
    assert ep.tick(now + 5) is None


def test_max_utterance_cuts_a_monologue() -> None:
    ep = EnergyEndpointer(RATE, max_utterance_s=2.0)
    utt, now = feed(ep, [tone()] * 200)
    assert utt is not None
    assert 1.98 <= now - utt.speech_start <= 2.05


def test_pause_offers_the_speech_so_far_without_ending_the_turn() -> None:
    ep = EnergyEndpointer(RATE, end_silence_s=0.6)
    _, now = feed(ep, [tone()] * 30)
    assert ep.pause(now + 0.1, after_s=0.25) is None
    snapshot = ep.pause(now + 0.3, after_s=0.25)
    assert snapshot is not None and abs(snapshot.speech_end - now) < 1e-9
    assert ep.in_speech  # the turn goes on
    final = ep.tick(now + 0.61)
    assert final is not None and final.speech_end == snapshot.speech_end
    assert final.pcm == snapshot.pcm
