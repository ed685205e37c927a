"""The event loop's worker threads (`asyncio.to_thread`, `run_in_executor(None, ...)`): a
fixed set, all started when the app starts.

Python's default executor starts a thread only when every one it has is busy, up to
min(32, cores + 4). Under a burst of calls it grows and never shrinks, so the process's
thread count after the burst depends on how busy the burst was: the soak benchmark saw
14 threads become 16 after 40 concurrent calls and could not tell a pool filling up from
a leak. Started whole, the pool is the same size before and after any load, and a thread
count that grows is a leak.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor

PREFIX = "worker"


def default_size() -> int:
    """Python's own bound for the default executor."""
    return min(32, (os.cpu_count() or 1) + 4)


async def start_workers(size: int | None = None) -> ThreadPoolExecutor:
    """Give the running loop a default executor of `size` threads, every one started
    now (each waits at a barrier until all are up, so none is reused for the next)."""
    size = size or default_size()
    executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=PREFIX)
    barrier = threading.Barrier(size, timeout=30)
    started = [asyncio.wrap_future(executor.submit(barrier.wait)) for _ in range(size)]
    await asyncio.gather(*started)
    asyncio.get_running_loop().set_default_executor(executor)
    return executor
