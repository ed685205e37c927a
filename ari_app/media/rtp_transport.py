"""RTP over UDP for Asterisk's externalMedia (encapsulation=rtp, transport=udp), G.711.

Receive side: every datagram is checked in this order and, on failure, dropped and counted
in ``stats.dropped`` by reason, never raised:

* ``foreign_source`` - not from the remote address (``set_remote``, else the first valid
  packet's source is latched, as symmetric RTP);
* ``garbage`` - not parseable as RTP (too short, wrong version, bad padding ...);
* ``wrong_pt`` - payload type other than the codec's;
* ``foreign_ssrc`` - the first accepted packet latches its SSRC, any other SSRC is dropped;
* ``late`` - a duplicate, or up to MAX_MISORDER packets older than the newest accepted
  (no reordering buffer; a bigger backward jump is taken as a sender restart);
* ``overflow`` - the reader lagged and the oldest decoded frame was discarded.

Send side: ``write_frame(pcm)`` sends exactly one packet. The marker bit is set on the first
packet, on the packet after ``mark_next()``, and automatically after a send gap of more than
``GAP_S`` (a new talk spurt); over a gap the timestamp is advanced by the silent time so it
keeps following the sampling clock (RFC 3551 section 4.1). Before a remote is known writes are
dropped as ``no_remote``; after ``close()`` as ``closed``.

With ``paced=True`` (what calls use) ``write_frame`` queues the frame for a `PacedSender`
thread, which sends it at its 20 ms deadline through a duplicate of the socket; the caller
then must not pace itself (``paced``), only feed. ``flush()`` drops what is queued.

Asterisk with connection_type=client sends its RTP from the UNICASTRTP_LOCAL_ADDRESS/PORT it
reports, so ``set_remote`` with those values also filters the receive side.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from ari_app.media.codecs import Codec
from ari_app.media.paced_sender import PacedSender
from ari_app.media.rtp import RtpError, RtpPacketizer, parse_rtp, seq_delta
from ari_app.media.transport import FrameQueue, TransportStats

log = logging.getLogger(__name__)

# A send gap longer than this starts a new talk spurt. It is above FramePacer's catch-up window
# (5 frames = 100 ms): a shorter hiccup is jitter the pacer catches up on, with continuous
# timestamps; a longer one is silence, which the timestamp skips over.
GAP_S = 0.12
MAX_MISORDER = 100  # a jump further back than this is a sender restart, not a late packet


def _normalize_host(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        raise ValueError(f"RTP remote must be an IP address, got {host!r}") from None


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: RtpTransport) -> None:
        self._owner = owner

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self._owner._on_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        self._owner._on_error(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner._on_lost()


class RtpTransport:
    """One RTP media leg; implements ``MediaTransport`` at the codec's rate (8000)."""

    def __init__(
        self,
        codec: Codec,
        bind_host: str = "127.0.0.1",
        bind_port: int = 0,
        *,
        queue_frames: int = 50,
        clock: Callable[[], float] = time.monotonic,
        paced: bool = False,
    ) -> None:
        self.codec = codec
        self.sample_rate = codec.sample_rate
        self.bind_host = bind_host
        self.bind_port = bind_port
        self.local_port = 0
        self.stats = TransportStats()
        self.remote: tuple[str, int] | None = None
        self.remote_ssrc: int | None = None
        self.errors = 0
        self._queue = FrameQueue(queue_frames, self.stats)
        self._packetizer = RtpPacketizer(codec.payload_type, codec.sample_rate)
        self._transport: asyncio.DatagramTransport | None = None
        self._last_seq: int | None = None
        self._clock = clock
        self._mark = True
        self._last_send: float | None = None
        self._last_samples = 0
        self._closed = False
        self.paced = paced
        self._sender: PacedSender | None = None
        self._send_sock: socket.socket | None = None

    @property
    def ssrc(self) -> int:
        """Our outgoing SSRC."""
        return self._packetizer.ssrc

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(self.bind_host, self.bind_port)
        )
        self._transport = transport
        self.local_port = int(transport.get_extra_info("sockname")[1])
        if self.paced:
            fd = os.dup(transport.get_extra_info("socket").fileno())
            self._send_sock = socket.socket(fileno=fd)
            self._sender = PacedSender(self._emit, name=f"rtp-send-{self.local_port}")
        log.debug("RTP %s listening on %s:%d", self.codec.name, self.bind_host, self.local_port)

    def set_remote(self, host: str, port: int) -> None:
        """Where to send, and the only source accepted (IP literal, e.g. from ARI)."""
        if not 0 < port < 65536:
            raise ValueError(f"RTP remote port {port} out of range")
        self.remote = (_normalize_host(host), port)

    def mark_next(self) -> None:
        """Set the marker bit on the next packet sent (start of a talk spurt)."""
        self._mark = True

    async def read_frame(self) -> bytes | None:
        return await self._queue.get()

    async def write_frame(self, pcm: bytes) -> None:
        if self._closed or self._transport is None:
            self.stats.drop("closed")
            return
        if self.remote is None:
            self.stats.drop("no_remote")
            return
        if len(pcm) < 2:
            return
        if self._sender is not None:
            await self._sender.put(pcm)
            return
        self._emit(pcm, self._clock())

    def _emit(self, pcm: bytes, now: float) -> None:
        """Packetize and send one frame at clock time `now` (the sender thread's, if paced)."""
        remote = self.remote
        if remote is None:
            return
        samples = len(pcm) // 2
        marker = self._mark
        if self._last_send is not None and now - self._last_send > GAP_S:
            marker = True
            silent = round((now - self._last_send) * self.sample_rate) - self._last_samples
            self._packetizer.skip(silent)
        data = self._packetizer.packetize(self.codec.encode(pcm), samples, marker=marker)
        self._mark = False
        self._last_send = now
        self._last_samples = samples
        if self._send_sock is not None:
            self._send_sock.sendto(data, remote)
        elif self._transport is not None:
            self._transport.sendto(data, remote)
        self.stats.sent += 1

    def flush(self) -> int:
        """Drop frames queued for sending (a barge-in); returns how many."""
        return self._sender.flush() if self._sender is not None else 0

    async def flush_far_end(self) -> None:
        """Asterisk plays RTP as it comes: nothing is buffered there to drop."""

    async def drained(self) -> None:
        """Wait until the frames queued for sending have left."""
        if self._sender is not None:
            await self._sender.drained()

    def take_send_jitter(self) -> list[float]:
        """|gap - 20 ms| between frames as the sender thread sent them, since the last call."""
        return self._sender.take_jitter() if self._sender is not None else []

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._sender is not None:
            self._sender.close()
            await asyncio.get_running_loop().run_in_executor(None, self._sender.join, 1.0)
        if self._send_sock is not None:
            self._send_sock.close()
        self._queue.close(discard=True)
        if self._transport is not None:
            self._transport.close()

    # receive path (called from the datagram protocol)

    def _on_datagram(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if self._closed:
            return
        source = (str(addr[0]), int(addr[1]))
        if self.remote is not None and source != self.remote:
            self.stats.drop("foreign_source")
            return
        try:
            packet = parse_rtp(data)
        except RtpError as exc:
            self.stats.drop("garbage")
            log.debug("RTP garbage from %s: %s", source, exc.reason)
            return
        if packet.payload_type != self.codec.payload_type:
            self.stats.drop("wrong_pt")
            return
        if self.remote_ssrc is None:
            self.remote_ssrc = packet.ssrc
        elif packet.ssrc != self.remote_ssrc:
            self.stats.drop("foreign_ssrc")
            return
        if self._last_seq is not None:
            delta = seq_delta(packet.sequence, self._last_seq)
            if -MAX_MISORDER <= delta <= 0:
                self.stats.drop("late")
                return
        if self.remote is None:
            self.remote = source
        self._last_seq = packet.sequence
        self.stats.received += 1
        self._queue.put(self.codec.decode(packet.payload))

    def _on_error(self, exc: Exception) -> None:
        self.errors += 1
        log.debug("RTP socket error: %s", exc)

    def _on_lost(self) -> None:
        self._closed = True
        self._queue.close(discard=False)
