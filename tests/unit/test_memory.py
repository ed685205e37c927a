"""Giving the heap back (ari_app/memory.py): glibc's malloc_trim for real, the Trimmer with
a fake trim."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import subprocess
import sys
import threading

import pytest

from ari_app.memory import Trimmer, cap_arenas, glibc_trim

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


ARENAS = r"""
import ctypes, os, sys, tempfile, threading
from ari_app.memory import cap_arenas

if sys.argv[1] == "capped":
    assert cap_arenas(1, environ={}) == 1
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
together = threading.Barrier(8)

def churn() -> None:
    together.wait()
    blocks = [libc.malloc(200) for _ in range(2000)]
    for block in blocks:
        libc.free(block)

threads = [threading.Thread(target=churn) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
path = os.path.join(tempfile.mkdtemp(), "arenas.xml")
out = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, out)
libc.fclose(out)
print(open(path).read().count("<heap nr="))
"""


def _arenas_after_eight_threads(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", ARENAS, mode], capture_output=True,
                          text=True, timeout=60, env=env, check=True)
    return int(done.stdout.split()[-1])


def test_capped_arenas_stay_few_with_many_threads() -> None:
    """Eight threads allocating at once each get an arena of glibc's by default; with
    the cap they share one."""
    if glibc_trim() is None:
        pytest.skip("not glibc")
    assert _arenas_after_eight_threads("default") >= 4
    assert _arenas_after_eight_threads("capped") == 1


def test_the_admins_malloc_arena_max_stands() -> None:
    assert cap_arenas(3, environ={"MALLOC_ARENA_MAX": "4"}) is None
