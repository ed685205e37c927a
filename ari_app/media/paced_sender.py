"""Sends a leg's outgoing frames from a thread of its own, on a 20 ms clock.

Paced on the asyncio loop, a frame leaves when the loop gets round to it: epoll sleeps in
whole milliseconds (rounded up), and whatever else the loop is doing (VAD, the receive side,
other calls) comes first. This thread sleeps to each frame's deadline with `time.sleep`
(clock_nanosleep, sub-millisecond) and sends right then. The loop only keeps it fed: `put`
waits while `lead_frames` frames are queued, so the queue stays short (60 ms by default) and a
barge-in `flush` drops little.

Deadlines are absolute (no drift). A producer that falls behind by up to `max_lag_frames` is
caught up on; further behind, or after the queue has run dry for longer than that, the next
frame starts a new schedule (a new talk spurt for RTP).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import threading
import time
from collections.abc import Callable

from ari_app.media.pacer import FRAME_S

log = logging.getLogger(__name__)

RT_PRIORITY = 10  # SCHED_FIFO priority of the sending thread (1-99; the kernel's own are 50+)


class PacedSender:
    """`emit(frame, at)` is called from the sender thread, once per frame, at its deadline;
    `at` is the clock reading just before the call."""

    def __init__(
        self,
        emit: Callable[[bytes, float], None],
        *,
        frame_s: float = FRAME_S,
        lead_frames: int = 3,
        max_lag_frames: int = 5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        name: str = "rtp-send",
    ) -> None:
        if lead_frames < 1:
            raise ValueError("lead_frames must be at least 1")
        self.frame_s = frame_s
        self.lead_frames = lead_frames
        self.max_lag_s = max_lag_frames * frame_s
        self._emit = emit
        self._clock = clock
        self._sleep = sleep
        self._frames: collections.deque[bytes] = collections.deque()
        self._cond = threading.Condition()
        self._closed = False
        self._sending = False  # a frame has left the queue and waits for its deadline
        self._loop: asyncio.AbstractEventLoop | None = None
        self._room = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.sent = 0
        self.flushed = 0
        self.errors = 0
        # |gap - frame| in ms between consecutive frames of a talk spurt, as sent
        self.jitter_ms: list[float] = []
        self.realtime = False  # whether the thread got real-time scheduling
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def busy(self) -> bool:
        """Frames are queued, or one is waiting for its deadline."""
        return bool(self._frames) or self._sending

    async def put(self, frame: bytes) -> None:
        """Queue a frame; waits while `lead_frames` are already queued."""
        self._loop = asyncio.get_running_loop()
        while True:
            self._room.clear()
            if self._closed or len(self._frames) < self.lead_frames:
                break
            await self._room.wait()
        if self._closed:
            return
        self._idle.clear()
        with self._cond:
            self._frames.append(frame)
            self._cond.notify()

    def flush(self) -> int:
        """Drop the queued frames (the caller barged in); returns how many."""
        with self._cond:
            dropped = len(self._frames)
            self._frames.clear()
        self.flushed += dropped
        self._room.set()
        self._idle.set()
        return dropped

    async def drained(self) -> None:
        """Wait until every queued frame has been sent."""
        while self.busy and not self._closed:
            self._idle.clear()
            if not self.busy:
                break
            await self._idle.wait()

    def take_jitter(self) -> list[float]:
        """The jitter figures gathered since the last call."""
        taken, self.jitter_ms = self.jitter_ms, []
        return taken

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._frames.clear()
            self._cond.notify()
        self._room.set()
        self._idle.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    # --- the sender thread -----------------------------------------------------------------
    def _wake_loop(self, emptied: bool) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._room.set)
            if emptied:
                loop.call_soon_threadsafe(self._idle.set)
        except RuntimeError:  # the loop closed meanwhile
            pass

    def _next_frame(self, deadline: float | None) -> bytes | None:
        """The next queued frame, waiting for one; None once closed."""
        with self._cond:
            while not self._frames:
                if self._closed:
                    return None
                self._cond.wait(timeout=self.frame_s if deadline is not None else None)
                if deadline is not None and not self._frames:
                    return b""  # still nothing: let the caller check the schedule
            if self._closed:
                return None
            self._sending = True
            return self._frames.popleft()

    @staticmethod
    def _raise_priority() -> bool:
        """Ask for real-time scheduling for this thread (it sleeps nearly all the time): on a
        busy machine (Whisper on every core) a waking thread can otherwise wait milliseconds
        for a CPU. Needs CAP_SYS_NICE (root, or a systemd unit's CPUSchedulingPolicy);
        without it the thread runs at normal priority."""
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(RT_PRIORITY))
            return True
        except (AttributeError, OSError):
            return False

    def _run(self) -> None:
        self.realtime = self._raise_priority()
        if not self.realtime:
            log.debug("%s: no real-time scheduling (needs CAP_SYS_NICE)", self._thread.name)
        deadline: float | None = None  # when the next frame is due
        last_sent: float | None = None
        while True:
            frame = self._next_frame(deadline)
            if frame is None:
                return
            now = self._clock()
            if not frame:  # queue dry: keep the schedule through a short gap only
                if deadline is not None and now - deadline > self.max_lag_s:
                    deadline = last_sent = None
                continue
            if deadline is None or now - deadline > self.max_lag_s:
                deadline = now  # a new spurt, or a stall too long to catch up on
                last_sent = None
            elif deadline > now:
                self._sleep(deadline - now)
                now = self._clock()
            try:
                self._emit(frame, now)
                self.sent += 1
            except OSError:
                self.errors += 1
            if last_sent is not None:
                self.jitter_ms.append(abs((now - last_sent) - self.frame_s) * 1000.0)
            last_sent = now
            deadline += self.frame_s
            with self._cond:
                self._sending = False
                emptied = not self._frames
            self._wake_loop(emptied)
