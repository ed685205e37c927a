"""RTP (RFC 3550) parsing and packetizing, sans I/O.

Header layout (network byte order)::

    byte 0: V(2) P(1) X(1) CC(4)    byte 1: M(1) PT(7)
    bytes 2-3: sequence   bytes 4-7: timestamp   bytes 8-11: SSRC
    then CC x 4-byte CSRC, then (if X) a 4-byte extension header (profile, length in
    32-bit words) and its data, then the payload, then (if P) padding whose last byte
    counts the padding bytes, itself included.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass, field

RTP_VERSION = 2
HEADER_LEN = 12
_HEADER = struct.Struct("!BBHII")
_EXT_HEADER = struct.Struct("!HH")


class RtpError(ValueError):
    """A datagram that is not a usable RTP packet; ``reason`` is a short machine-readable tag."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    marker: bool
    payload: bytes
    csrcs: tuple[int, ...] = field(default=())


def parse_rtp(data: bytes) -> RtpPacket:
    """Parse one RTP packet; raises RtpError("too_short" | "bad_version" | "bad_csrc" |
    "bad_extension" | "bad_padding")."""
    size = len(data)
    if size < HEADER_LEN:
        raise RtpError("too_short", f"{size} bytes")
    b0, b1, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
    version = b0 >> 6
    if version != RTP_VERSION:
        raise RtpError("bad_version", f"version {version}")
    padding = bool(b0 & 0x20)
    extension = bool(b0 & 0x10)
    csrc_count = b0 & 0x0F
    offset = HEADER_LEN + 4 * csrc_count
    if offset > size:
        raise RtpError("bad_csrc", f"{csrc_count} CSRCs do not fit in {size} bytes")
    csrcs = struct.unpack_from(f"!{csrc_count}I", data, HEADER_LEN) if csrc_count else ()
    if extension:
        if offset + 4 > size:
            raise RtpError("bad_extension", "extension header truncated")
        _profile, words = _EXT_HEADER.unpack_from(data, offset)
        offset += 4 + 4 * words
        if offset > size:
            raise RtpError("bad_extension", f"extension of {words} words truncated")
    end = size
    if padding:
        pad = data[-1]
        if pad == 0 or offset + pad > size:
            raise RtpError("bad_padding", f"padding count {pad}")
        end -= pad
    return RtpPacket(
        payload_type=b1 & 0x7F,
        sequence=sequence,
        timestamp=timestamp,
        ssrc=ssrc,
        marker=bool(b1 & 0x80),
        payload=bytes(data[offset:end]),
        csrcs=tuple(csrcs),
    )


def build_rtp(packet: RtpPacket) -> bytes:
    """Serialize a packet (no extension, no padding)."""
    if len(packet.csrcs) > 15:
        raise ValueError("at most 15 CSRCs")
    b0 = (RTP_VERSION << 6) | len(packet.csrcs)
    b1 = (0x80 if packet.marker else 0) | (packet.payload_type & 0x7F)
    header = _HEADER.pack(
        b0, b1, packet.sequence & 0xFFFF, packet.timestamp & 0xFFFFFFFF, packet.ssrc & 0xFFFFFFFF
    )
    csrcs = struct.pack(f"!{len(packet.csrcs)}I", *packet.csrcs) if packet.csrcs else b""
    return header + csrcs + packet.payload


def seq_delta(a: int, b: int) -> int:
    """Signed distance from 16-bit sequence number ``b`` to ``a`` in -32768..32767 (wraps)."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000


class RtpPacketizer:
    """Builds outgoing packets for one stream: one SSRC, sequence +1 per packet (wraps at
    2**16), timestamp + samples per packet (wraps at 2**32); random initial values (RFC 3550
    section 5.1) unless given."""

    def __init__(
        self,
        payload_type: int,
        clock_rate: int,
        ssrc: int | None = None,
        *,
        sequence: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        if not 0 <= payload_type <= 127:
            raise ValueError(f"payload type {payload_type} out of range 0..127")
        self.payload_type = payload_type
        self.clock_rate = clock_rate
        self.ssrc = secrets.randbits(32) if ssrc is None else ssrc & 0xFFFFFFFF
        self.sequence = secrets.randbits(16) if sequence is None else sequence & 0xFFFF
        self.timestamp = secrets.randbits(32) if timestamp is None else timestamp & 0xFFFFFFFF

    def packetize(self, payload: bytes, samples: int, marker: bool = False) -> bytes:
        """One packet carrying ``payload`` (``samples`` samples long); advances the counters."""
        data = build_rtp(
            RtpPacket(self.payload_type, self.sequence, self.timestamp, self.ssrc, marker, payload)
        )
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
        return data

    def skip(self, samples: int) -> None:
        """Advance the timestamp over ``samples`` not sent (silence), without a packet."""
        if samples > 0:
            self.timestamp = (self.timestamp + samples) & 0xFFFFFFFF
