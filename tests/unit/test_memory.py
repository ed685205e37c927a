"""Giving the heap back (ari_app/memory.py): glibc's malloc_trim for real, the Trimmer with
a fake trim."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import threading

import pytest

from ari_app.memory import Trimmer, glibc_trim

PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def test_malloc_trim_gives_back_memory_freed_below_a_live_block() -> None:
    trim = glibc_trim()
    if trim is None:
        pytest.skip("not glibc: no malloc_trim")
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    # 160 MB in small blocks (below the mmap threshold: they come from the heap), touched so
    # that they are resident; the last one stays, so glibc cannot shrink the heap's top
    # and keeps the rest when freed: what a burst of calls leaves behind
    blocks = [libc.malloc(4000) for _ in range(40_000)]
    for block in blocks:
        ctypes.memset(block, 1, 4000)
    for block in blocks[:-1]:
        libc.free(block)
    before = _rss_bytes()
    trim()
    after = _rss_bytes()
    libc.free(blocks[-1])
    assert before - after > 100 * 2**20, (before, after)


class FakeTrim:
    """Stands in for malloc_trim: records the thread it ran on, waits to be let go."""

    def __init__(self) -> None:
        self.threads: list[int] = []
        self.go = threading.Event()

    def __call__(self) -> bool:
        self.threads.append(threading.get_ident())
        self.go.wait(5)
        return True


async def test_one_trim_at_a_time_off_the_event_loop() -> None:
    fake = FakeTrim()
    trimmer = Trimmer(fake)
    first = trimmer.soon()
    assert first is not None
    await asyncio.sleep(0.05)
    assert trimmer.soon() is None  # one is running
    fake.go.set()
    await trimmer.wait()
    assert trimmer.trims == 1
    assert fake.threads and fake.threads[0] != threading.get_ident()
    again = trimmer.soon()  # the first is over: another may run
    assert again is not None
    await trimmer.wait()
    assert trimmer.trims == 2


async def test_without_malloc_trim_nothing_runs() -> None:
    trimmer = Trimmer(None)
    assert trimmer.soon() is None
    await trimmer.wait()
    assert trimmer.trims == 0


async def test_a_failing_trim_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> bool:
        raise OSError("no such symbol")

    trimmer = Trimmer(broken)
    trimmer.soon()
    await trimmer.wait()
    assert trimmer.trims == 0
    assert "malloc_trim failed" in caplog.text
