"""Fuzzing the RTP parser (`parse_rtp`) and the receive path behind it
(`RtpTransport._on_datagram`): any datagram is a packet whose payload lies inside it, or an
RtpError with its reason; what the transport receives is queued or counted as a drop."""

from __future__ import annotations

import struct

from hypothesis import example, given
from hypothesis import strategies as st

from ari_app.media.codecs import get_codec
from ari_app.media.rtp import HEADER_LEN, RtpError, RtpPacket, build_rtp, parse_rtp
from ari_app.media.rtp_transport import RtpTransport
from testkit.fuzz import FUZZ

REASONS = {"too_short", "bad_version", "bad_csrc", "bad_extension", "bad_padding"}
ULAW = get_codec("ulaw")

PACKETS = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    marker=st.booleans(),
    payload=st.binary(max_size=200),
    csrcs=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15).map(tuple),
)


@st.composite
def broken_packets(draw: st.DrawFn) -> bytes:
    """A valid packet whose first byte (version, padding, extension, CSRC count) is random,
    with an extension header of any length, padding of any count, or its end cut off."""
    data = bytearray(build_rtp(draw(PACKETS)))
    data[0] = draw(st.integers(0, 255))
    if draw(st.booleans()):  # an extension header where the flags say it is
        at = HEADER_LEN + 4 * (data[0] & 0x0F)
        words = draw(st.sampled_from([0, 1, 0xFFFF]) | st.integers(0, 8))
        data[at:at] = struct.pack("!HH", 0xBEDE, words) + draw(st.binary(max_size=16))
    if draw(st.booleans()):
        data += draw(st.binary(max_size=3)) + bytes([draw(st.integers(0, 255))])
    if draw(st.booleans()):
        del data[draw(st.integers(0, len(data))):]
    return bytes(data)


def check(data: bytes) -> RtpPacket | None:
    """The property: a packet inside the datagram, or RtpError("<reason>: <detail>")."""
    try:
        packet = parse_rtp(data)
    except RtpError as exc:
        assert exc.reason in REASONS and str(exc).startswith(exc.reason)
        return None
    assert data[0] >> 6 == 2
    assert len(packet.csrcs) == data[0] & 0x0F
    # the payload is every byte after the header, the CSRCs and the extension (its length
    # in 32-bit words in its own header) and before the padding (its count in the last byte)
    start = HEADER_LEN + 4 * len(packet.csrcs)
    if data[0] & 0x10:
        start += 4 + 4 * int.from_bytes(data[start + 2 : start + 4], "big")
    end = len(data) - (data[-1] if data[0] & 0x20 else 0)
    assert start <= end and data[start:end] == packet.payload
    return packet


@FUZZ
@given(st.binary(max_size=80) | broken_packets())
@example(b"\x80" * 11)
@example(b"\xa0\x00" + bytes(10))  # padding with a count of 0
@example(b"\x90\x00" + bytes(10) + b"\x00\x00\xff\xff")  # extension of 65535 words
@example(b"\x8f\x00" + bytes(10))  # 15 CSRCs in a bare header
def test_any_datagram_is_a_packet_or_an_rtp_error(data: bytes) -> None:
    check(data)


@FUZZ
@given(PACKETS)
def test_a_built_packet_parses_back(packet: RtpPacket) -> None:
    assert parse_rtp(build_rtp(packet)) == packet


@FUZZ
@given(st.lists(st.binary(max_size=40) | broken_packets() | PACKETS.map(build_rtp), max_size=20))
def test_the_receive_path_queues_or_counts_every_datagram(datagrams: list[bytes]) -> None:
    transport = RtpTransport(ULAW)
    for data in datagrams:
        transport._on_datagram(data, ("127.0.0.1", 4000))
    assert transport.stats.received + transport.stats.dropped_total == len(datagrams)
    assert set(transport.stats.dropped) <= {"garbage", "wrong_pt", "foreign_ssrc", "late"}
