"""Sample-rate conversion of s16le mono PCM with soxr (HQ)."""

from __future__ import annotations

import numpy as np
import soxr

from ari_app.media.pcm import I16, SampleCarry, int16_samples, whole_samples


class Resampler:
    """Streaming converter from ``in_rate`` to ``out_rate``; passthrough when they are equal.

    ``process`` accepts chunks of any length (an odd trailing byte is kept for the next call);
    output lags input by the filter delay until ``flush`` releases the tail. After ``flush``
    the resampler is reset and can take a new stream.
    """

    def __init__(self, in_rate: int, out_rate: int) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {in_rate} -> {out_rate}")
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._carry = SampleCarry()
        self._stream: soxr.ResampleStream | None = None
        if in_rate != out_rate:
            self._stream = soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16", quality="HQ")

    @property
    def passthrough(self) -> bool:
        return self._stream is None

    def process(self, pcm: bytes) -> bytes:
        data = self._carry.take(pcm)
        if self._stream is None or not data:
            return data
        out = self._stream.resample_chunk(int16_samples(data).astype(np.int16), last=False)
        return np.asarray(out, dtype=I16).tobytes()

    def flush(self) -> bytes:
        self._carry.reset()
        if self._stream is None:
            return b""
        out = self._stream.resample_chunk(np.zeros(0, dtype=np.int16), last=True)
        self._stream.clear()
        return np.asarray(out, dtype=I16).tobytes()


def resample(pcm: bytes, in_rate: int, out_rate: int) -> bytes:
    """One-shot conversion of a whole s16le buffer."""
    pcm = whole_samples(pcm)
    if in_rate == out_rate or not pcm:
        return pcm
    out = soxr.resample(int16_samples(pcm).astype(np.int16), in_rate, out_rate, quality="HQ")
    return np.asarray(out, dtype=I16).tobytes()
