"""Giving freed memory back to the system when the box falls quiet.

A burst of calls grows the C heap (audio buffers, the recogniser's and the VAD's working
memory, one glibc arena per busy thread). When the calls end, the memory is free inside the
process but glibc keeps most of it: the soak benchmark saw resident memory stay 50% above
its warm-up figure after the last of 40 concurrent calls. `malloc_trim(0)` returns every
free page of every arena; it is glibc's own call, so on another C library (musl) it is
absent and `Trimmer.trim` does nothing.

The trim runs in a worker thread (it walks every arena: milliseconds on a large heap, not
for the event loop that paces 20 ms frames), once at a time, when the last live call ends.

glibc also gives each thread that finds the others' arenas busy an arena of its own, up to
eight per core. The app's threads (workers, the recogniser's, the RTP sender, the SQLite
pool) each come to hold memory in a different arena after a burst of calls, and what one
arena keeps another cannot reuse: `cap_arenas` bounds them to one per core at start.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def glibc_trim() -> Callable[[], bool] | None:
    """glibc's malloc_trim(0) as a callable (True when memory was given back), or None
    where the C library the process runs on has none."""
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library already loaded: no search
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: bool(trim(0))


_M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h


def cap_arenas(arenas: int | None = None,
               environ: Mapping[str, str] = os.environ) -> int | None:
    """Bound glibc's malloc arenas to `arenas` (default: one per core, at least two); the
    bound set, or None where the C library has no mallopt or the admin's
    MALLOC_ARENA_MAX (which glibc reads itself) stands instead. Call it before threads
    start: arenas already made stay."""
    if "MALLOC_ARENA_MAX" in environ:
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    bound = arenas or max(2, os.cpu_count() or 1)
    if mallopt(_M_ARENA_MAX, bound) != 1:
        log.warning("memory: mallopt(M_ARENA_MAX, %d) refused", bound)
        return None
    return bound


class Trimmer:
    """Trims the heap off the event loop, one trim at a time; `trims` counts those run."""

    def __init__(self, trim: Callable[[], bool] | None) -> None:
        self._trim = trim
        self._running: asyncio.Task[None] | None = None
        self.trims = 0

    def soon(self) -> asyncio.Task[None] | None:
        """Start a trim unless one is running or there is nothing to call; the task."""
        if self._trim is None or (self._running is not None and not self._running.done()):
            return None
        self._running = asyncio.create_task(self._run(), name="malloc-trim")
        return self._running

    async def _run(self) -> None:
        assert self._trim is not None
        try:
            released = await asyncio.to_thread(self._trim)
        except OSError as exc:  # a foreign C library misbehaving must not end a call
            log.warning("memory: malloc_trim failed: %s", exc)
            return
        self.trims += 1
        log.debug("memory: heap trimmed (%s)", "pages returned" if released else "none free")

    async def wait(self) -> None:
        if self._running is not None:
            await asyncio.gather(self._running, return_exceptions=True)
