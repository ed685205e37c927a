from ari_app.media.pacer import FramePacer, FrameSplitter, frame_bytes, frames


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_fifty_frames_take_one_second() -> None:
    vc = VirtualClock()
    pacer = FramePacer(clock=vc.clock, sleep=vc.sleep)
    sent_at = []
    for _ in range(50):  # producer delivers instantly
        sent_at.append(vc.now)
        await pacer.wait()
    assert abs(vc.now - 1.0) < 1e-9
    assert all(abs(t - i * 0.02) < 1e-9 for i, t in enumerate(sent_at))


async def test_no_drift_with_slow_work() -> None:
    vc = VirtualClock()
    pacer = FramePacer(clock=vc.clock, sleep=vc.sleep)
    for _ in range(50):
        vc.now += 0.007  # 7 ms of work per frame is absorbed, not added
        await pacer.wait()
    assert abs(vc.now - (0.007 + 1.0)) < 1e-9  # anchored at the first wait


async def test_small_lag_catches_up_without_sleeping() -> None:
    vc = VirtualClock()
    pacer = FramePacer(clock=vc.clock, sleep=vc.sleep)
    await pacer.wait()  # t = 0.02
    vc.now += 0.06  # 3 frames late: within max_lag_frames
    n_sleeps = len(vc.sleeps)
    await pacer.wait()
    await pacer.wait()
    assert len(vc.sleeps) == n_sleeps  # caught up
    await pacer.wait()
    await pacer.wait()
    assert abs(vc.now - 0.10) < 1e-9  # back on the original schedule
    assert pacer.reanchors == 0


async def test_long_stall_reanchors_instead_of_bursting() -> None:
    vc = VirtualClock()
    pacer = FramePacer(clock=vc.clock, sleep=vc.sleep)
    for _ in range(5):
        await pacer.wait()
    vc.now += 1.0  # producer stalled for 50 frames
    stall_end = vc.now
    await pacer.wait()  # re-anchors: returns at once
    assert vc.now == stall_end
    assert pacer.reanchors == 1
    n_sleeps = len(vc.sleeps)
    for _ in range(10):
        await pacer.wait()
    assert len(vc.sleeps) == n_sleeps + 10  # every frame waited again: no burst
    assert abs(vc.now - (stall_end + 0.2)) < 1e-9


async def test_reset_anchors_anew() -> None:
    vc = VirtualClock()
    pacer = FramePacer(clock=vc.clock, sleep=vc.sleep)
    await pacer.wait()
    vc.now += 0.5
    pacer.reset()
    await pacer.wait()
    assert abs(vc.now - 0.54) < 1e-9
    assert pacer.reanchors == 0


def test_frame_bytes() -> None:
    assert frame_bytes(8000) == 320
    assert frame_bytes(16000) == 640


def test_frames_pads_the_last() -> None:
    out = frames(b"\x01" * 700, 8000)
    assert [len(f) for f in out] == [320, 320, 320]
    assert out[2] == b"\x01" * 60 + bytes(260)
    assert frames(b"", 16000) == []
    assert len(frames(bytes(640), 16000)) == 1


def test_splitter_streams() -> None:
    s = FrameSplitter(16000)
    assert s.push(b"a" * 600) == []
    out = s.push(b"b" * 700)
    assert len(out) == 2 and all(len(f) == 640 for f in out)
    assert out[0] == b"a" * 600 + b"b" * 40
    assert s.pending == 20
    last = s.flush()
    assert last == [b"b" * 20 + bytes(620)]
    assert s.flush() == []
