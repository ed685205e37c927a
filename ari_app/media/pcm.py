"""s16le mono PCM, the audio format inside the app: whole 16-bit samples out of bytes that may
end in the middle of one, and the samples as numbers."""

from __future__ import annotations

import numpy as np

I16 = np.dtype("<i2")


def whole_samples(pcm: bytes) -> bytes:
    """`pcm` without a trailing odd byte (half a sample)."""
    return pcm[: len(pcm) & ~1]


def int16_samples(pcm: bytes) -> np.ndarray:
    """The whole samples of `pcm` as int16 numbers (a trailing odd byte is left out)."""
    return np.frombuffer(pcm, dtype=I16, count=len(pcm) // 2)


class SampleCarry:
    """A stream of bytes cut into whole samples: an odd byte that ends one chunk waits for
    the next (chunks from a socket or a subprocess need not end on a sample)."""

    def __init__(self) -> None:
        self._carry = b""

    def take(self, pcm: bytes) -> bytes:
        """The whole samples of what was carried and `pcm`."""
        data = self._carry + pcm
        cut = len(data) & ~1
        self._carry = data[cut:]
        return data[:cut]

    def reset(self) -> None:
        """Forget a carried byte (a new stream begins)."""
        self._carry = b""
