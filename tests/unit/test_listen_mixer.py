"""The listen-in mixer on a clock moved by hand: one 20 ms frame per tick on absolute
deadlines, both sides summed, a side with nothing sent is silence, a short lateness caught
up, a stall not replayed, a slow listener losing its oldest frames, a call's end ending it."""

from __future__ import annotations

import asyncio

import numpy as np

from ari_app.console.listen import FRAME_SAMPLES, ListenMixer


class FakeTime:
    """A clock that only the mixer's sleeps move; it stops the mixer after `ticks` sleeps."""

    def __init__(self, ticks: int, late: dict[int, float] | None = None) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self.ticks = ticks
        self.late = late or {}  # sleep number -> extra seconds the loop overslept
        self.done = asyncio.Event()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds + self.late.get(len(self.sleeps), 0.0)
        if len(self.sleeps) >= self.ticks:
            self.done.set()
            await asyncio.Future()  # held here until cancelled
        await asyncio.sleep(0)


def pcm(value: int, frames: int = 1) -> bytes:
    return np.full(FRAME_SAMPLES * frames, value, dtype="<i2").tobytes()


async def run(time: FakeTime) -> tuple[ListenMixer, list[bytes]]:
    mixer = ListenMixer(clock=time.clock, sleep=time.sleep)
    listening = mixer.join()
    listening.frames = type(listening.frames)(maxlen=1000)
    mixer.caller(pcm(1000, 3), 8000)
    mixer.secretary(pcm(-300, 2), 8000)
    await asyncio.wait_for(time.done.wait(), 2)
    mixer.close()
    frames = [f async for f in _frames(listening)]
    return mixer, frames


async def _frames(listening: object):  # type: ignore[no-untyped-def]
    while (frame := await listening.next()) is not None:  # type: ignore[attr-defined]
        yield frame


async def test_one_frame_per_tick_on_the_20_ms_clock() -> None:
    time = FakeTime(ticks=10)
    _, frames = await run(time)
    assert all(abs(s - 0.02) < 1e-9 for s in time.sleeps)
    assert len(frames) == 9  # the tenth sleep never returns
    assert all(len(f) == 320 for f in frames)
    assert frames[0] == pcm(700) and frames[1] == pcm(700)  # both sides summed
    assert frames[2] == pcm(1000)  # the secretary had sent two frames only
    assert frames[3:] == [pcm(0)] * 6  # nothing sent: silence


async def test_a_late_tick_is_caught_up_and_a_stall_is_not_replayed() -> None:
    late = FakeTime(ticks=6, late={2: 0.05})  # 50 ms late: the next two deadlines have passed
    _, frames = await run(late)
    assert len(late.sleeps) == 6 and len(frames) == 5 + 2
    stalled = FakeTime(ticks=6, late={2: 1.0})  # a second late: a new schedule from then
    _, frames = await run(stalled)
    assert len(frames) == 5 + 1
    assert all(abs(s - 0.02) < 1e-9 for s in stalled.sleeps)


async def test_a_slow_listener_keeps_the_newest_frames() -> None:
    time = FakeTime(ticks=31)
    mixer = ListenMixer(clock=time.clock, sleep=time.sleep)
    listening = mixer.join()
    await asyncio.wait_for(time.done.wait(), 2)
    assert len(listening.frames) == 8 and listening.dropped == 22
    mixer.close()


async def test_clipping_and_a_16_khz_side() -> None:
    mixer = ListenMixer()
    mixer.caller(pcm(30000), 8000)
    mixer.secretary(pcm(30000), 8000)
    assert mixer.mix() == pcm(32767)
    mixer.caller(np.zeros(16000, dtype="<i2").tobytes(), 16000)  # 0.5 s at 16 kHz
    assert len(mixer._caller.pcm) == 2 * 1600  # kept: the newest 200 ms at 8 kHz


async def test_the_call_ending_ends_each_listener() -> None:
    mixer = ListenMixer()
    listening = mixer.join()
    mixer.close()
    assert await asyncio.wait_for(listening.next(), 1) is None
    assert mixer.join().closed
