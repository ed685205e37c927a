import asyncio
import math
import struct
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import pytest

from ari_app.media.codecs import get_codec, ulaw_decode, ulaw_encode
from ari_app.media.rtp import RtpPacketizer, parse_rtp
from ari_app.media.rtp_transport import RtpTransport
from ari_app.media.transport import MediaTransport

ULAW = get_codec("ulaw")


def tone_frame(k: int, rate: int = 8000) -> bytes:
    return struct.pack(
        "<160h",
        *(int(8000 * math.sin(2 * math.pi * 440 * (k * 160 + n) / rate)) for n in range(160)),
    )


class Peer(asyncio.DatagramProtocol):
    """A UDP socket playing Asterisk's side."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[bytes] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # the selector loop's datagram transport does not subclass DatagramTransport
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.received.put_nowait(data)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def send(self, data: bytes, port: int) -> None:
        assert self.transport is not None
        self.transport.sendto(data, ("127.0.0.1", port))


async def make_peer() -> Peer:
    loop = asyncio.get_running_loop()
    _, peer = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
    return peer


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    p = await make_peer()
    yield p
    assert p.transport is not None
    p.transport.close()


@pytest.fixture
async def rtp() -> AsyncIterator[RtpTransport]:
    t = RtpTransport(ULAW, "127.0.0.1", 0)
    await t.start()
    yield t
    await t.close()


async def until(cond: Callable[[], bool], wait_s: float = 2.0) -> None:
    """Poll ``cond`` while the loop delivers datagrams (loopback UDP is fast but async)."""
    for _ in range(int(wait_s / 0.005)):
        if cond():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


async def test_is_a_media_transport(rtp: RtpTransport) -> None:
    assert isinstance(rtp, MediaTransport)
    assert rtp.sample_rate == 8000
    assert rtp.local_port > 0


async def test_received_frames_are_decoded(rtp: RtpTransport, peer: Peer) -> None:
    rtp.set_remote("127.0.0.1", peer.port)
    pk = RtpPacketizer(0, 8000)
    payloads = [ulaw_encode(tone_frame(k)) for k in range(5)]
    for p in payloads:
        peer.send(pk.packetize(p, 160), rtp.local_port)
    for p in payloads:
        async with asyncio.timeout(2):
            frame = await rtp.read_frame()
        assert frame == ulaw_decode(p)
        assert frame is not None and len(frame) == 320
    assert rtp.stats.received == 5
    assert rtp.stats.dropped_total == 0


async def test_written_frames_arrive_as_rtp(rtp: RtpTransport, peer: Peer) -> None:
    rtp.set_remote("127.0.0.1", peer.port)
    frames = [tone_frame(k) for k in range(3)]
    for f in frames:
        await rtp.write_frame(f)
    pkts = [parse_rtp(await asyncio.wait_for(peer.received.get(), 2)) for _ in frames]
    assert [p.marker for p in pkts] == [True, False, False]
    assert all(p.payload_type == 0 and p.ssrc == rtp.ssrc for p in pkts)
    assert [(p.sequence - pkts[0].sequence) & 0xFFFF for p in pkts] == [0, 1, 2]
    assert [(p.timestamp - pkts[0].timestamp) & 0xFFFFFFFF for p in pkts] == [0, 160, 320]
    assert [p.payload for p in pkts] == [ulaw_encode(f) for f in frames]
    assert rtp.stats.sent == 3
    rtp.mark_next()
    await rtp.write_frame(frames[0])
    assert parse_rtp(await asyncio.wait_for(peer.received.get(), 2)).marker


async def test_marker_and_timestamp_jump_after_a_gap(peer: Peer) -> None:
    now = [100.0]
    rtp = RtpTransport(ULAW, clock=lambda: now[0])
    await rtp.start()
    try:
        rtp.set_remote("127.0.0.1", peer.port)
        await rtp.write_frame(tone_frame(0))
        now[0] += 0.02
        await rtp.write_frame(tone_frame(1))
        now[0] += 1.0  # one second of silence
        await rtp.write_frame(tone_frame(2))
        a, b, c = [parse_rtp(await asyncio.wait_for(peer.received.get(), 2)) for _ in range(3)]
        assert (a.marker, b.marker, c.marker) == (True, False, True)
        assert (b.timestamp - a.timestamp) & 0xFFFFFFFF == 160
        assert (c.timestamp - b.timestamp) & 0xFFFFFFFF == 8000
        assert (c.sequence - b.sequence) & 0xFFFF == 1
    finally:
        await rtp.close()


async def test_writes_before_remote_are_dropped(rtp: RtpTransport) -> None:
    await rtp.write_frame(tone_frame(0))
    assert rtp.stats.dropped == {"no_remote": 1}
    assert rtp.stats.sent == 0


async def test_remote_latched_from_first_packet(rtp: RtpTransport, peer: Peer) -> None:
    peer.send(RtpPacketizer(0, 8000).packetize(b"\xff" * 160, 160), rtp.local_port)
    assert await asyncio.wait_for(rtp.read_frame(), 2) == bytes(320)
    assert rtp.remote == ("127.0.0.1", peer.port)
    await rtp.write_frame(tone_frame(0))
    assert parse_rtp(await asyncio.wait_for(peer.received.get(), 2)).payload_type == 0


async def test_bad_packets_are_dropped_by_reason(rtp: RtpTransport, peer: Peer) -> None:
    stranger = await make_peer()
    try:
        rtp.set_remote("127.0.0.1", peer.port)
        good = RtpPacketizer(0, 8000, ssrc=1)
        peer.send(good.packetize(b"\xff" * 160, 160), rtp.local_port)  # latches SSRC 1
        peer.send(b"hello, not rtp", rtp.local_port)
        peer.send(b"\x00" * 20, rtp.local_port)  # version 0
        stranger.send(RtpPacketizer(0, 8000, ssrc=1).packetize(b"\xff" * 160, 160), rtp.local_port)
        peer.send(RtpPacketizer(8, 8000, ssrc=1).packetize(b"\xd5" * 160, 160), rtp.local_port)
        peer.send(RtpPacketizer(0, 8000, ssrc=2).packetize(b"\xff" * 160, 160), rtp.local_port)
        peer.send(good.packetize(b"\xff" * 160, 160), rtp.local_port)
        await until(lambda: rtp.stats.received + rtp.stats.dropped_total >= 7)
        assert rtp.stats.received == 2
        assert rtp.stats.dropped == {
            "garbage": 2,
            "foreign_source": 1,
            "wrong_pt": 1,
            "foreign_ssrc": 1,
        }
        assert rtp.remote_ssrc == 1
        assert await rtp.read_frame() == bytes(320)
        assert await rtp.read_frame() == bytes(320)
    finally:
        assert stranger.transport is not None
        stranger.transport.close()


async def test_duplicates_and_late_packets_are_dropped(rtp: RtpTransport, peer: Peer) -> None:
    rtp.set_remote("127.0.0.1", peer.port)
    pk = RtpPacketizer(0, 8000, sequence=10)
    first = pk.packetize(b"\xff" * 160, 160)
    second = pk.packetize(b"\xff" * 160, 160)
    for data in (first, second, second, first):
        peer.send(data, rtp.local_port)
    await until(lambda: rtp.stats.received + rtp.stats.dropped_total >= 4)
    assert rtp.stats.received == 2
    assert rtp.stats.dropped == {"late": 2}


async def test_overflow_drops_oldest(peer: Peer) -> None:
    rtp = RtpTransport(ULAW, queue_frames=3)
    await rtp.start()
    try:
        rtp.set_remote("127.0.0.1", peer.port)
        pk = RtpPacketizer(0, 8000)
        payloads = [bytes([0x80 + k]) * 160 for k in range(5)]
        for p in payloads:
            peer.send(pk.packetize(p, 160), rtp.local_port)
        await until(lambda: rtp.stats.received == 5)
        assert rtp.stats.dropped == {"overflow": 2}
        got = [await rtp.read_frame() for _ in range(3)]
        assert got == [ulaw_decode(p) for p in payloads[2:]]
    finally:
        await rtp.close()


async def test_close_ends_reads_and_writes(rtp: RtpTransport, peer: Peer) -> None:
    rtp.set_remote("127.0.0.1", peer.port)
    reader = asyncio.create_task(rtp.read_frame())
    await asyncio.sleep(0.01)
    await rtp.close()
    assert await asyncio.wait_for(reader, 1) is None
    assert await rtp.read_frame() is None
    await rtp.write_frame(tone_frame(0))
    assert rtp.stats.dropped == {"closed": 1}
    await rtp.close()  # idempotent


def test_set_remote_validates() -> None:
    rtp = RtpTransport(ULAW)
    with pytest.raises(ValueError):
        rtp.set_remote("asterisk.example", 4000)
    with pytest.raises(ValueError):
        rtp.set_remote("127.0.0.1", 0)
