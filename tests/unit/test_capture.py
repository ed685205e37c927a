"""The test harness reads captured RTP with the app's own parser (ari_app/media/rtp.py)."""

from __future__ import annotations

import io
from pathlib import Path

import dpkt
import pytest

from ari_app.media.rtp import RtpPacket, build_rtp
from testkit.capture import CapturedRtp, PcapTail, parse_rtp_capture, parse_rtp_header


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


def _frame(sport: int, dport: int, sequence: int) -> bytes:
    rtp = build_rtp(RtpPacket(0, sequence, sequence * 160, 42, False, b"\xff" * 160))
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=rtp)
    udp.ulen = len(udp)
    ip = dpkt.ip.IP(src=b"\x7f\x00\x00\x01", dst=b"\x7f\x00\x00\x01", p=dpkt.ip.IP_PROTO_UDP,
                    data=udp)
    ip.len = len(ip)
    return bytes(dpkt.ethernet.Ethernet(type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def test_a_pcap_read_while_it_is_written_gives_each_packet_once_and_whole(
    tmp_path: Path,
) -> None:
    whole = io.BytesIO()
    writer = dpkt.pcap.Writer(whole)
    frames = [(_frame(4000, 5000, n) if n % 2 else _frame(5000, 4000, n)) for n in range(6)]
    for n, frame in enumerate(frames):
        writer.writepkt(frame, ts=100.0 + n * 0.02)
    data = whole.getvalue()
    pcap = tmp_path / "call.pcap"
    tail = PcapTail(pcap, 4000)
    assert tail.read() == ([], [])  # tcpdump has not written anything yet
    seen_sent: list[CapturedRtp] = []
    seen_received: list[CapturedRtp] = []
    # written in uneven pieces that cut the header and records in two
    for cut in (10, 30, 70, 300, 301, 900, len(data)):
        with pcap.open("ab") as fh:
            fh.write(data[pcap.stat().st_size if pcap.exists() else 0 : cut])
        sent, received = tail.read()
        seen_sent += sent
        seen_received += received
    assert (seen_sent, seen_received) == parse_rtp_capture(pcap, 4000)
    assert [p.rtp.sequence for p in seen_sent] == [1, 3, 5]  # from port 4000
    assert [p.rtp.sequence for p in seen_received] == [0, 2, 4]
    assert [p.time for p in seen_received] == pytest.approx([100.0, 100.04, 100.08])
