"""The virtual clock the whole-call unit tests run on (testkit/virtual_clock.py)."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from testkit.virtual_clock import VirtualClockLoop


def test_an_hour_of_sleeps_passes_at_once_and_exactly() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        woke: list[float] = []

        async def sleeper(delay: float) -> None:
            await asyncio.sleep(delay)
            woke.append(loop.time() - start)

        await asyncio.gather(sleeper(3600.0), sleeper(0.02), sleeper(59.5))
        return woke

    real = time.monotonic()
    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        woke = runner.run(main())
    assert woke == pytest.approx([0.02, 59.5, 3600.0], abs=1e-9)
    assert time.monotonic() - real < 5.0  # not an hour


def test_ready_io_is_taken_before_the_clock_jumps() -> None:
    async def main() -> tuple[bytes, float]:
        loop = asyncio.get_running_loop()
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        start = loop.time()
        b.send(b"x")
        timer = asyncio.create_task(asyncio.sleep(10.0))
        data = await loop.sock_recv(a, 1)
        elapsed = loop.time() - start
        timer.cancel()
        a.close()
        b.close()
        return data, elapsed

    with asyncio.Runner(loop_factory=VirtualClockLoop) as runner:
        data, elapsed = runner.run(main())
    assert data == b"x" and elapsed < 10.0
