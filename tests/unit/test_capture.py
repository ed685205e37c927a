"""The test harness reads captured RTP with the app's own parser (ari_app/media/rtp.py)."""

from __future__ import annotations

from ari_app.media.rtp import RtpPacket, build_rtp
from testkit.capture import parse_rtp_header


def test_a_captured_packet_is_the_rtp_packet_with_its_time_and_ports() -> None:
    packet = RtpPacket(payload_type=0, sequence=7, timestamp=160, ssrc=42, marker=True,
                       payload=b"\xff" * 160)
    seen = parse_rtp_header(12.5, 4000, 5000, build_rtp(packet))
    assert seen is not None
    assert (seen.time, seen.src_port, seen.dst_port) == (12.5, 4000, 5000)
    assert seen.rtp == packet


def test_rtcp_and_garbage_are_not_rtp() -> None:
    rtcp = build_rtp(RtpPacket(72, 0, 0, 1, False, b""))  # an RTCP SR seen through the RTP lens
    assert parse_rtp_header(0.0, 1, 2, rtcp) is None
    assert parse_rtp_header(0.0, 1, 2, b"\x00" * 20) is None  # version 0
    assert parse_rtp_header(0.0, 1, 2, b"\x80\x00") is None  # too short
