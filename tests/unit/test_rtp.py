import struct

import pytest

from ari_app.media.rtp import RtpError, RtpPacketizer, parse_rtp, seq_delta


def header(
    *,
    version: int = 2,
    padding: bool = False,
    extension: bool = False,
    cc: int = 0,
    marker: bool = False,
    pt: int = 0,
    seq: int = 1,
    ts: int = 160,
    ssrc: int = 0x11223344,
) -> bytes:
    b0 = (version << 6) | (0x20 if padding else 0) | (0x10 if extension else 0) | cc
    b1 = (0x80 if marker else 0) | pt
    return struct.pack("!BBHII", b0, b1, seq, ts, ssrc)


def test_minimal_packet() -> None:
    p = parse_rtp(header(pt=8, seq=7, ts=1234, marker=True) + b"abc")
    assert (p.payload_type, p.sequence, p.timestamp, p.ssrc, p.marker) == (
        8,
        7,
        1234,
        0x11223344,
        True,
    )
    assert p.payload == b"abc"
    assert p.csrcs == ()


def test_csrc_extension_and_padding() -> None:
    csrcs = struct.pack("!II", 1, 2)
    ext = struct.pack("!HH", 0xBEDE, 2) + b"\x01" * 8
    payload = b"\x55" * 160
    pad = b"\x00\x00\x03"
    data = header(padding=True, extension=True, cc=2) + csrcs + ext + payload + pad
    p = parse_rtp(data)
    assert p.csrcs == (1, 2)
    assert p.payload == payload


def test_empty_extension() -> None:
    data = header(extension=True) + struct.pack("!HH", 0x1000, 0) + b"xy"
    assert parse_rtp(data).payload == b"xy"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "too_short"),
        (b"\x80\x00\x00", "too_short"),
        (header()[:11], "too_short"),
        (header(version=1) + b"x", "bad_version"),
        (header(version=0) + b"x", "bad_version"),
        (header(cc=3) + b"\x00" * 8, "bad_csrc"),
        (header(extension=True) + b"\x00\x00", "bad_extension"),
        (header(extension=True) + struct.pack("!HH", 0, 4) + b"\x00" * 8, "bad_extension"),
        (header(padding=True) + b"ab\x00", "bad_padding"),
        (header(padding=True) + b"ab\x09", "bad_padding"),
    ],
)
def test_malformed_packets_raise_with_reason(data: bytes, reason: str) -> None:
    with pytest.raises(RtpError) as info:
        parse_rtp(data)
    assert info.value.reason == reason
    assert isinstance(info.value, ValueError)


def test_packetizer_round_trip_and_marker() -> None:
    pk = RtpPacketizer(0, 8000, ssrc=0xCAFEBABE, sequence=100, timestamp=5000)
    first = parse_rtp(pk.packetize(b"\xff" * 160, 160, marker=True))
    second = parse_rtp(pk.packetize(b"\x7f" * 160, 160))
    assert (first.sequence, first.timestamp, first.marker) == (100, 5000, True)
    assert (second.sequence, second.timestamp, second.marker) == (101, 5160, False)
    assert first.ssrc == second.ssrc == 0xCAFEBABE
    assert second.payload == b"\x7f" * 160
    assert first.payload_type == 0


def test_packetizer_wraps_sequence_and_timestamp() -> None:
    pk = RtpPacketizer(8, 8000, sequence=0xFFFF, timestamp=0xFFFFFFFF - 100)
    a = parse_rtp(pk.packetize(b"x" * 160, 160))
    b = parse_rtp(pk.packetize(b"x" * 160, 160))
    assert (a.sequence, a.timestamp) == (0xFFFF, 0xFFFFFFFF - 100)
    assert (b.sequence, b.timestamp) == (0, 59)
    assert b.payload_type == 8
    pk.skip(1000)
    c = parse_rtp(pk.packetize(b"x", 1))
    assert (c.sequence, c.timestamp) == (1, 59 + 160 + 1000)


def test_packetizer_random_initial_values() -> None:
    values = {(p.ssrc, p.sequence, p.timestamp) for p in (RtpPacketizer(0, 8000) for _ in range(5))}
    assert len(values) == 5


def test_packetizer_rejects_bad_payload_type() -> None:
    with pytest.raises(ValueError):
        RtpPacketizer(128, 8000)


def test_seq_delta_wraps() -> None:
    assert seq_delta(1, 0) == 1
    assert seq_delta(0, 0xFFFF) == 1
    assert seq_delta(0xFFFF, 0) == -1
    assert seq_delta(5, 10) == -5
