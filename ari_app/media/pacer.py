"""20 ms pacing on absolute deadlines, and splitting PCM into whole frames."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

FRAME_S = 0.02


def frame_bytes(rate: int, frame_s: float = FRAME_S) -> int:
    """Bytes of one s16le mono frame: 20 ms at 8 kHz = 320, at 16 kHz = 640."""
    return round(rate * frame_s) * 2


class FramePacer:
    """Paces a sender to one frame per ``frame_s`` on absolute deadlines (no drift).

    The first ``wait()`` after construction or ``reset()`` anchors the schedule at "now"; every
    ``wait()`` then advances the deadline by ``frame_s`` and sleeps until it, so N waits span
    N x frame_s. Use it as ``send(frame); await pacer.wait()`` (each frame leaves at the start
    of its slot). A sender that falls behind by up to ``max_lag_frames`` catches up without
    sleeping; further behind (a stall), the schedule re-anchors at now instead of bursting
    the backlog out. ``clock`` and ``sleep`` are injectable for tests on a virtual clock.
    """

    def __init__(
        self,
        frame_s: float = FRAME_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        max_lag_frames: int = 5,
    ) -> None:
        if frame_s <= 0:
            raise ValueError("frame_s must be positive")
        self.frame_s = frame_s
        self.max_lag_frames = max_lag_frames
        self._clock = clock
        self._sleep = sleep
        self._deadline: float | None = None
        self.reanchors = 0

    def reset(self) -> None:
        """Forget the schedule; the next ``wait()`` anchors anew (start of a new utterance)."""
        self._deadline = None

    async def wait(self) -> None:
        now = self._clock()
        if self._deadline is None:
            self._deadline = now
        self._deadline += self.frame_s
        lag = now - self._deadline
        if lag > self.max_lag_frames * self.frame_s:
            self.reanchors += 1
            self._deadline = now
            return
        if self._deadline > now:
            await self._sleep(self._deadline - now)


def frames(pcm: bytes, rate: int, frame_s: float = FRAME_S) -> list[bytes]:
    """Split PCM into whole frames; the last one is padded with zeros (silence)."""
    splitter = FrameSplitter(rate, frame_s)
    return splitter.push(pcm) + splitter.flush()


class FrameSplitter:
    """Cuts a stream of arbitrary-length PCM chunks into whole frames."""

    def __init__(self, rate: int, frame_s: float = FRAME_S) -> None:
        self.frame_bytes = frame_bytes(rate, frame_s)
        if self.frame_bytes <= 0:
            raise ValueError(f"frame of {frame_s} s at {rate} Hz is empty")
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back, waiting for a whole frame."""
        return len(self._buf)

    def push(self, pcm: bytes) -> list[bytes]:
        self._buf += pcm
        size = self.frame_bytes
        count = len(self._buf) // size
        out = [bytes(self._buf[i * size : (i + 1) * size]) for i in range(count)]
        del self._buf[: count * size]
        return out

    def flush(self) -> list[bytes]:
        """The remainder as one zero-padded frame (or nothing), and an empty buffer."""
        if not self._buf:
            return []
        last = bytes(self._buf) + bytes(self.frame_bytes - len(self._buf))
        self._buf.clear()
        return [last]
