"""Joins the audio of consecutive sentences with a short crossfade, so the seam between
two synthesised pieces has no click. The last `overlap` of each piece is held back until
the next piece starts, then mixed with its head under linear ramps."""

from __future__ import annotations

import numpy as np

from ari_app.media.pcm import int16_samples


class SentenceJoiner:
    def __init__(self, sample_rate: int, overlap_s: float = 0.01) -> None:
        self.overlap = max(1, int(sample_rate * overlap_s))
        self._tail: np.ndarray | None = None  # held back end of the previous piece
        self._head_pending = False  # the next audio is the head of a new piece

    def push(self, pcm: bytes) -> bytes:
        """Audio of the current piece; returns what can be played now."""
        samples = int16_samples(pcm).astype(np.float32)
        if self._head_pending and self._tail is not None and samples.size:
            n = min(self.overlap, self._tail.size, samples.size)
            ramp = np.linspace(0.0, 1.0, n, endpoint=False, dtype=np.float32)
            mixed = self._tail[-n:] * (1 - ramp) + samples[:n] * ramp
            samples = np.concatenate([self._tail[:-n], mixed, samples[n:]])
            self._tail = None
        self._head_pending = False
        if self._tail is not None:
            samples = np.concatenate([self._tail, samples])
        keep = min(self.overlap, samples.size)
        self._tail = samples[samples.size - keep :]
        return _int16(samples[: samples.size - keep])

    def end_piece(self) -> None:
        """The current piece is complete: its tail waits for the next one."""
        self._head_pending = True

    def flush(self) -> bytes:
        """No more pieces: the held tail, faded out."""
        if self._tail is None:
            return b""
        tail = self._tail * np.linspace(1.0, 0.0, self._tail.size, dtype=np.float32)
        self._tail = None
        self._head_pending = False
        return _int16(tail)


def _int16(samples: np.ndarray) -> bytes:
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()
