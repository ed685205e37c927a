"""Listen-in on a live call: the caller's and the secretary's audio, as the call itself
heard and sent it, mixed into 20 ms frames of 8 kHz s16le mono for `WS /api/live/{id}/listen`.

The call only appends its frames here (and only while someone listens); a task of its own
mixes one frame per 20 ms tick on absolute deadlines, and hands it to each listener's short
queue. A side that sent nothing in a tick is silence; a side with more than
`MAX_BUFFER_S` waiting loses its oldest audio, so the delay stays bounded; a listener that
does not keep up loses its oldest frames.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Awaitable, Callable

import numpy as np

from ari_app.media.resample import Resampler

RATE = 8000
FRAME_S = 0.02
FRAME_SAMPLES = int(RATE * FRAME_S)  # 160 samples, 320 bytes
MAX_BUFFER_S = 0.2  # of one side's audio waiting to be mixed
MAX_LAG_S = 0.1  # the mixer this late starts a new schedule instead of catching up
LISTENER_FRAMES = 8  # 160 ms queued for one listener at most


class _Side:
    """One side's audio waiting to be mixed, at 8 kHz."""

    def __init__(self) -> None:
        self.pcm = bytearray()
        self._resampler: Resampler | None = None

    def add(self, pcm: bytes, sample_rate: int) -> None:
        if sample_rate != RATE:
            if self._resampler is None or self._resampler.in_rate != sample_rate:
                self._resampler = Resampler(sample_rate, RATE)
            pcm = self._resampler.process(pcm)
        self.pcm += pcm
        excess = len(self.pcm) - 2 * int(MAX_BUFFER_S * RATE)
        if excess > 0:
            del self.pcm[: excess + excess % 2]

    def take(self) -> np.ndarray:
        n = 2 * FRAME_SAMPLES
        chunk = bytes(self.pcm[:n])
        del self.pcm[:n]
        samples = np.zeros(FRAME_SAMPLES, dtype=np.int32)
        got = np.frombuffer(chunk[: len(chunk) - len(chunk) % 2], dtype="<i2")
        samples[: len(got)] = got
        return samples


class Listening:
    """One listener's mixed frames, oldest first; `next()` is None once the call is over."""

    def __init__(self, maxlen: int = LISTENER_FRAMES) -> None:
        self.frames: collections.deque[bytes] = collections.deque(maxlen=maxlen)
        self.dropped = 0
        self.closed = False
        self._arrived = asyncio.Event()

    def push(self, frame: bytes) -> None:
        if len(self.frames) == self.frames.maxlen:
            self.dropped += 1
        self.frames.append(frame)
        self._arrived.set()

    def close(self) -> None:
        self.closed = True
        self._arrived.set()

    async def next(self) -> bytes | None:
        while True:
            if self.frames:
                return self.frames.popleft()
            if self.closed:
                return None
            self._arrived.clear()
            await self._arrived.wait()


class ListenMixer:
    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.listeners: set[Listening] = set()
        self.closed = False
        self._caller = _Side()
        self._secretary = _Side()
        self._task: asyncio.Task[None] | None = None

    # --- fed by the call -----------------------------------------------------------------
    def caller(self, pcm: bytes, sample_rate: int) -> None:
        self._caller.add(pcm, sample_rate)

    def secretary(self, pcm: bytes, sample_rate: int) -> None:
        self._secretary.add(pcm, sample_rate)

    # --- listeners -----------------------------------------------------------------------
    def join(self) -> Listening:
        listening = Listening()
        if self.closed:
            listening.close()
            return listening
        self.listeners.add(listening)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="listen-in")
        return listening

    def leave(self, listening: Listening) -> None:
        self.listeners.discard(listening)
        if not self.listeners:  # no one to mix for: what waits would only be stale
            self._caller.pcm.clear()
            self._secretary.pcm.clear()

    def close(self) -> None:
        """The call is over: each listener gets the frames queued, then the end."""
        self.closed = True
        for listening in self.listeners:
            listening.close()
        self.listeners.clear()
        if self._task is not None:
            self._task.cancel()

    # --- the mixing ----------------------------------------------------------------------
    def mix(self) -> bytes:
        """The next 20 ms of both sides, summed (clipped to 16 bits)."""
        both = self._caller.take() + self._secretary.take()
        return np.clip(both, -32768, 32767).astype("<i2").tobytes()

    async def run(self) -> None:
        """One frame per 20 ms tick to every listener, while anyone listens."""
        deadline = self.clock()
        with contextlib.suppress(asyncio.CancelledError):
            while self.listeners and not self.closed:
                deadline += FRAME_S
                wait = deadline - self.clock()
                if wait > 0:
                    await self.sleep(wait)
                elif -wait > MAX_LAG_S:  # far behind (a stalled loop): start afresh
                    deadline = self.clock()
                frame = self.mix()
                for listening in self.listeners:
                    listening.push(frame)
