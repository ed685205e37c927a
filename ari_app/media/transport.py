"""The interface both media transports (RTP, chan_websocket) implement."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass
class TransportStats:
    """Counters of one transport: frames/packets received and sent, drops by reason."""

    received: int = 0
    sent: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def drop(self, reason: str, count: int = 1) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + count


@runtime_checkable
class MediaTransport(Protocol):
    sample_rate: int  # rate of the PCM read and written (8000 RTP, 16000 websocket)
    stats: TransportStats
    # True: the transport sends each frame on its own 20 ms clock (RTP's sender thread);
    # whoever plays audio then only feeds `write_frame` and must not pace it again
    paced: bool

    async def start(self) -> None: ...

    async def read_frame(self) -> bytes | None:
        """Next received PCM chunk (s16le at sample_rate, any length); None once closed."""
        ...

    async def write_frame(self, pcm: bytes) -> None:
        """Send one 20 ms PCM frame: now, or when `paced`, queue it for its deadline (it
        returns once queued); never raises on I/O."""
        ...

    def flush(self) -> int:
        """Drop the frames queued for sending, at once (a barge-in); how many."""
        ...

    async def flush_far_end(self) -> None:
        """Playback was cut short: have the far end drop what it buffered of ours
        (chan_websocket's FLUSH_MEDIA); nothing where it plays frames as they come."""
        ...

    async def drained(self) -> None:
        """Wait until the frames queued for sending have left (at once when unpaced)."""
        ...

    def take_send_jitter(self) -> list[float]:
        """|gap - 20 ms| between frames as the transport's own clock sent them, since the
        last call; [] when it does not pace (the player measures its own pacing)."""
        ...

    async def close(self) -> None: ...


class FrameQueue:
    """Bounded queue of received PCM between a transport's receive side and ``read_frame()``.

    On overflow the oldest chunk is dropped and counted as ``overflow`` (a slow reader hears
    the newest audio). After ``close()``, ``get()`` returns None (at once with
    ``discard=True``, else once the queued chunks are drained).
    """

    def __init__(self, maxsize: int, stats: TransportStats) -> None:
        if maxsize <= 0:
            raise ValueError("maxsize must be positive")
        self.maxsize = maxsize
        self._stats = stats
        self._items: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, chunk: bytes) -> None:
        if self._closed:
            return
        if len(self._items) >= self.maxsize:
            self._items.popleft()
            self._stats.drop("overflow")
        self._items.append(chunk)
        self._ready.set()

    def close(self, discard: bool = True) -> None:
        self._closed = True
        if discard:
            self._items.clear()
        self._ready.set()

    async def get(self) -> bytes | None:
        while True:
            if self._items:
                return self._items.popleft()
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
