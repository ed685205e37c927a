"""PacedSender: the sending thread's schedule on a fake clock, its queue limits, flush and
drain with a fake emit, and RtpTransport(paced=True) on real UDP sockets."""

from __future__ import annotations

import asyncio
import threading

import pytest
from test_rtp_transport import make_peer, tone_frame

from ari_app.media.codecs import get_codec
from ari_app.media.paced_sender import PacedSender
from ari_app.media.rtp import parse_rtp
from ari_app.media.rtp_transport import RtpTransport


class FakeClock:
    """Virtual time for the sender thread: sleeping advances it, nothing else does."""

    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def time(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


class GatedEmit:
    """An emit that records frames and can be held shut, like a send that takes a while."""

    def __init__(self) -> None:
        self.frames: list[tuple[bytes, float]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, frame: bytes, at: float) -> None:
        self.entered.set()
        self.gate.wait(5)
        self.frames.append((frame, at))


async def test_frames_leave_on_a_20_ms_schedule_from_the_first() -> None:
    clock = FakeClock()
    emit = GatedEmit()
    sender = PacedSender(emit, lead_frames=10, clock=clock.time, sleep=clock.sleep)
    try:
        for k in range(8):
            await sender.put(bytes([k]) * 4)
        await sender.drained()
        assert [f[0][0] for f in emit.frames] == list(range(8))
        offsets = [round((at - emit.frames[0][1]) * 1000, 6) for _, at in emit.frames]
        assert offsets == [20.0 * k for k in range(8)]
        assert [round(j, 6) for j in sender.take_jitter()] == [0.0] * 7
        assert sender.take_jitter() == []  # taken
    finally:
        sender.close()
        sender.join(2)


async def test_put_waits_while_the_lead_is_queued() -> None:
    emit = GatedEmit()
    emit.gate.clear()  # the first frame's send hangs
    sender = PacedSender(emit, lead_frames=2)
    try:
        await sender.put(b"a")
        await asyncio.get_running_loop().run_in_executor(None, emit.entered.wait, 2)
        await sender.put(b"b")
        await sender.put(b"c")  # two queued behind the one being sent: the lead is full
        fourth = asyncio.create_task(sender.put(b"d"))
        await asyncio.sleep(0.1)
        assert not fourth.done()
        emit.gate.set()
        await asyncio.wait_for(fourth, 2)
        await sender.drained()
        assert [f for f, _ in emit.frames] == [b"a", b"b", b"c", b"d"]
    finally:
        sender.close()
        sender.join(2)


async def test_flush_drops_what_is_queued_and_drained_returns() -> None:
    emit = GatedEmit()
    emit.gate.clear()
    sender = PacedSender(emit, lead_frames=3)
    try:
        await sender.put(b"a")
        await asyncio.get_running_loop().run_in_executor(None, emit.entered.wait, 2)
        await sender.put(b"b")
        await sender.put(b"c")
        assert sender.flush() == 2
        emit.gate.set()
        await asyncio.wait_for(sender.drained(), 2)
        assert [f for f, _ in emit.frames] == [b"a"]
        assert sender.flushed == 2 and sender.sent == 1
    finally:
        sender.close()
        sender.join(2)


def test_lead_frames_must_be_positive() -> None:
    with pytest.raises(ValueError, match="lead_frames"):
        PacedSender(lambda frame, at: None, lead_frames=0)


async def test_paced_rtp_sends_every_frame_in_order_from_its_thread() -> None:
    peer = await make_peer()
    rtp = RtpTransport(get_codec("ulaw"), paced=True)
    await rtp.start()
    try:
        assert rtp.paced
        rtp.set_remote("127.0.0.1", peer.port)
        for k in range(10):
            await rtp.write_frame(tone_frame(k))
        await rtp.drained()
        packets = [parse_rtp(await asyncio.wait_for(peer.received.get(), 2)) for _ in range(10)]
        assert [p.sequence - packets[0].sequence for p in packets] == list(range(10))
        assert [p.timestamp - packets[0].timestamp for p in packets] == [160 * k for k in range(10)]
        assert packets[0].marker and not any(p.marker for p in packets[1:])
        assert len(rtp.take_send_jitter()) == 9
        assert rtp.stats.sent == 10
    finally:
        await rtp.close()
        assert peer.transport is not None
        peer.transport.close()


async def test_paced_rtp_flush_stops_queued_frames() -> None:
    peer = await make_peer()
    rtp = RtpTransport(get_codec("ulaw"), paced=True)
    await rtp.start()
    try:
        rtp.set_remote("127.0.0.1", peer.port)
        for k in range(3):  # the lead: none of these waits
            await rtp.write_frame(tone_frame(k))
        dropped = rtp.flush()
        await rtp.drained()
        assert dropped >= 1  # at most one had left the queue for its deadline
        assert rtp.stats.sent == 3 - dropped
    finally:
        await rtp.close()
        assert peer.transport is not None
        peer.transport.close()
