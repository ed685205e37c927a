"""Phone loudness for the secretary's voice: a slow automatic gain towards a target level,
with a limiter, applied frame by frame.

TTS engines differ by 10 dB and more (RHVoice is loud, festival quiet); a caller should not
hear the level jump when a fallback voice takes over. The gain follows the level of speech
frames only (silence neither raises nor lowers it), moves at most `step_db` per frame and
stays within +-`max_gain_db`; a frame that would clip is scaled down.
"""

from __future__ import annotations

import math

import numpy as np

from ari_app.media.pcm import int16_samples

SPEECH_FLOOR_DBFS = -50.0
SILENCE_DBFS = -120.0  # the level of digital silence


def amplitude_dbfs(value: float, floor: float = SILENCE_DBFS) -> float:
    """An amplitude in sample steps (an RMS, a peak) in dBFS, where a full-scale square wave
    is 0; `floor` below one step (digital silence)."""
    return 20.0 * math.log10(value / 32768.0) if value >= 1.0 else floor


def frame_dbfs(pcm: bytes, floor: float = SILENCE_DBFS) -> float:
    """RMS level of s16le PCM in dBFS; `floor` for digital silence and for no samples."""
    samples = int16_samples(pcm).astype(np.float64)
    if samples.size == 0:
        return floor
    return amplitude_dbfs(math.sqrt(float(np.mean(samples * samples))), floor)


class Loudness:
    def __init__(
        self,
        target_dbfs: float = -18.0,
        max_gain_db: float = 12.0,
        step_db: float = 0.5,
        ceiling: float = 0.89,  # -1 dBFS
    ) -> None:
        self.target_dbfs = target_dbfs
        self.max_gain_db = max_gain_db
        self.step_db = step_db
        self.ceiling = ceiling * 32767
        self.gain_db = 0.0
        self._primed = False

    def process(self, frame: bytes) -> bytes:
        samples = int16_samples(frame).astype(np.float32)
        if samples.size == 0:
            return frame
        level = frame_dbfs(frame)
        if level > SPEECH_FLOOR_DBFS:
            wanted = max(-self.max_gain_db, min(self.max_gain_db, self.target_dbfs - level))
            if not self._primed:  # the first speech frame sets the gain at once
                self.gain_db, self._primed = wanted, True
            else:
                delta = max(-self.step_db, min(self.step_db, wanted - self.gain_db))
                self.gain_db += delta
        out = samples * (10 ** (self.gain_db / 20))
        peak = float(np.max(np.abs(out)))
        if peak > self.ceiling:
            out *= self.ceiling / peak
        return out.astype("<i2").tobytes()
