"""Packet capture of one test call's RTP with tcpdump, and parsing of the pcap with dpkt.

``PacketCapture`` runs ``tcpdump -i lo -U --immediate-mode -w FILE udp and port P`` for the
caller's RTP port P; ``parse_rtp_capture`` splits the captured RTP into packets sent from P and
packets received on P, each with its capture timestamp (seconds since the epoch, as tcpdump
stamped it); ``PcapTail`` reads the same packets while the call goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import struct
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import ClassVar

import dpkt

from ari_app.media.rtp import RtpError, RtpPacket, parse_rtp

_START_TIMEOUT_S = 5.0
_STOP_TIMEOUT_S = 5.0


class CaptureError(RuntimeError):
    """tcpdump could not be started or the capture could not be read."""


@dataclass(frozen=True)
class CapturedRtp:
    """One RTP packet seen on the wire."""

    time: float  # capture timestamp, seconds since the epoch
    src_port: int
    dst_port: int
    rtp: RtpPacket


class PacketCapture:
    """tcpdump on an interface, limited to UDP on one port, written to a pcap file.

    Use as ``async with PacketCapture(path, port): ...`` or call ``start()``/``stop()``.
    ``start()`` returns once tcpdump reports it is listening.
    """

    def __init__(self, path: Path, port: int, interface: str = "lo") -> None:
        self.path = path
        self.port = port
        self.interface = interface
        self.stderr_text = ""
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def command(self) -> list[str]:
        tcpdump = shutil.which("tcpdump") or "tcpdump"
        # as root, stay root: tcpdump's default drop to user "tcpdump" cannot write everywhere
        keep_user = ["-Z", "root"] if os.geteuid() == 0 else []
        return [
            # --immediate-mode: each packet reaches the file as it is seen, not in the
            # kernel's one-second blocks (PcapTail reads the call as it goes on)
            tcpdump, *keep_user, "-i", self.interface, "-n", "-U", "--immediate-mode", "-s", "0",
            "-w", str(self.path), "udp", "and", "port", str(self.port),
        ]  # fmt: skip

    async def start(self) -> None:
        if self._proc is not None:
            raise CaptureError("capture already started")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError as exc:
            raise CaptureError("tcpdump is not installed (apt-get install tcpdump)") from exc
        assert self._proc.stderr is not None
        lines: list[str] = []
        try:
            async with asyncio.timeout(_START_TIMEOUT_S):
                while True:
                    raw = await self._proc.stderr.readline()
                    if not raw:
                        break
                    line = raw.decode(errors="replace").strip()
                    lines.append(line)
                    if "listening on" in line:
                        break
        except TimeoutError:
            pass
        self.stderr_text = "\n".join(lines)
        if self._proc.returncode is not None or not any("listening on" in ln for ln in lines):
            await self.stop()
            raise CaptureError(f"tcpdump did not start: {self.stderr_text or 'no output'}")

    async def stop(self) -> None:
        """Stop tcpdump (SIGINT, then SIGKILL) so the pcap is complete; safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            try:
                async with asyncio.timeout(_STOP_TIMEOUT_S):
                    await proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if proc.stderr is not None:
            with contextlib.suppress(Exception):
                rest = await proc.stderr.read()
                self.stderr_text += "\n" + rest.decode(errors="replace")

    async def __aenter__(self) -> PacketCapture:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def _udp_of(linktype: int, buf: bytes) -> dpkt.udp.UDP | None:
    ip: object
    if linktype == dpkt.pcap.DLT_EN10MB:
        ip = dpkt.ethernet.Ethernet(buf).data
    elif linktype == dpkt.pcap.DLT_LINUX_SLL:
        ip = dpkt.sll.SLL(buf).data
    elif linktype == dpkt.pcap.DLT_NULL or linktype == dpkt.pcap.DLT_LOOP:
        family = struct.unpack("=I", buf[:4])[0]
        ip = dpkt.ip6.IP6(buf[4:]) if family in (10, 24, 28, 30) else dpkt.ip.IP(buf[4:])
    elif linktype in (dpkt.pcap.DLT_RAW, 101):
        ip = dpkt.ip6.IP6(buf) if buf[:1] and buf[0] >> 4 == 6 else dpkt.ip.IP(buf)
    else:
        raise CaptureError(f"unsupported pcap link type {linktype}")
    if not isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6):
        return None
    udp = ip.data
    return udp if isinstance(udp, dpkt.udp.UDP) else None


def parse_rtp_header(time: float, src_port: int, dst_port: int, data: bytes) -> CapturedRtp | None:
    """Parse one UDP payload as RTP (ari_app/media/rtp.py); None when it is not RTP (or is
    RTCP)."""
    try:
        packet = parse_rtp(data)
    except RtpError:
        return None
    if 72 <= packet.payload_type <= 76:  # RTCP SR/RR/SDES/BYE/APP seen through the RTP lens
        return None
    return CapturedRtp(time=time, src_port=src_port, dst_port=dst_port, rtp=packet)


class PcapTail:
    """The RTP of one port read from a pcap file while tcpdump is still writing it (``-U``
    flushes each packet): each ``read()`` returns the packets whole since the last one."""

    _MAGIC: ClassVar[dict[bytes, tuple[str, float]]] = {
        b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
        b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9),
    }

    def __init__(self, path: Path, port: int) -> None:
        self.path = path
        self.port = port
        self._offset = 0
        self._buffer = b""
        self._format: tuple[str, float, int] | None = None  # byte order, tick, link type

    def read(self) -> tuple[list[CapturedRtp], list[CapturedRtp]]:
        """(sent from the port, received on it) since the last call."""
        try:
            with self.path.open("rb") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
        except FileNotFoundError:
            return [], []
        self._offset += len(chunk)
        self._buffer += chunk
        if self._format is None:
            if len(self._buffer) < 24:
                return [], []
            if self._buffer[:4] not in self._MAGIC:
                raise CaptureError(f"{self.path}: not a pcap file")
            order, tick = self._MAGIC[self._buffer[:4]]
            linktype = struct.unpack(order + "I", self._buffer[20:24])[0]
            self._format = (order, tick, linktype)
            self._buffer = self._buffer[24:]
        order, tick, linktype = self._format
        sent: list[CapturedRtp] = []
        received: list[CapturedRtp] = []
        while len(self._buffer) >= 16:
            seconds, fraction, length, _ = struct.unpack(order + "IIII", self._buffer[:16])
            if len(self._buffer) < 16 + length:
                break
            frame, self._buffer = self._buffer[16 : 16 + length], self._buffer[16 + length :]
            packet = _rtp_of(linktype, seconds + fraction * tick, frame, self.port)
            if packet is not None:
                (sent if packet.src_port == self.port else received).append(packet)
        return sent, received


def _rtp_of(linktype: int, time: float, frame: bytes, port: int) -> CapturedRtp | None:
    try:
        udp = _udp_of(linktype, frame)
    except (dpkt.UnpackError, struct.error, IndexError):
        return None
    if udp is None or port not in (udp.sport, udp.dport):
        return None
    return parse_rtp_header(time, udp.sport, udp.dport, bytes(udp.data))


def parse_rtp_capture(pcap: Path, port: int) -> tuple[list[CapturedRtp], list[CapturedRtp]]:
    """RTP packets (sent from ``port``, received on ``port``) in capture order.

    A packet from ``port`` to ``port`` (loopback echo) counts as sent only.
    """
    sent: list[CapturedRtp] = []
    received: list[CapturedRtp] = []
    if not pcap.exists() or pcap.stat().st_size == 0:
        return sent, received
    with pcap.open("rb") as fh:
        try:
            reader = dpkt.pcap.Reader(fh)
        except ValueError as exc:
            raise CaptureError(f"{pcap}: not a pcap file ({exc})") from exc
        linktype = reader.datalink()
        try:
            for ts, buf in reader:
                pkt = _rtp_of(linktype, float(ts), buf, port)
                if pkt is not None:
                    (sent if pkt.src_port == port else received).append(pkt)
        except dpkt.NeedData:
            pass  # a truncated last record (tcpdump killed mid-write)
    return sent, received
