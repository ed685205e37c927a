"""The test caller answers when the secretary has answered and fallen quiet, as a person does.

A fixed pause before each caller line has to cover the slowest reply the test can meet, so most
calls sit in silence, and a pause too short makes the caller talk over the reply. A
``CallerLine`` with ``after_reply_quiet_ms`` instead waits for its cue. sipp cannot hear, so
the scenario stops before that line (``testkit/scenario.py``): sipp, started with ``-3pcc``,
sends a twin command naming the line and waits for one back. ``CueGiver`` is the other end of
that link: it reads the RTP the caller receives from the call's packet capture while tcpdump
writes it (``PcapTail``) and answers once ``ReplyWatch`` says the secretary has spoken since the
wait began and has been quiet for the line's ``after_reply_quiet_ms``; after ``max_wait_s`` with
no such reply it lets the caller go on anyway, and says so in the cue's reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

from ari_app.media.codecs import get_codec
from ari_app.media.loudness import frame_dbfs
from testkit.capture import PcapTail
from testkit.scenario import CUE_LINE_HEADER

SPEECH_DBFS = -40.0  # a received frame louder than this is the secretary speaking
MIN_SPEECH_MS = 200  # this much speech since the wait began makes a reply
_POLL_S = 0.02
_WAITING = re.compile(rf"{CUE_LINE_HEADER}:\s*(\d+)")
_CALL_ID = re.compile(r"Call-ID:\s*(\S+)", re.IGNORECASE)
_END = b"\x1b"  # sipp ends each twin command with ESC


@dataclass(frozen=True)
class Cue:
    """One cue given: the caller's line, when (epoch seconds), and why ("quiet" after a
    reply, or "no reply" when none came within the longest wait)."""

    line: int
    waited_from: float
    at: float
    reason: str


class ReplyWatch:
    """Whether the caller waiting since `since` may speak: it has heard at least
    MIN_SPEECH_MS of speech since then, and nothing loud for `quiet_ms`; or `max_wait_s`
    has passed. Times are seconds on one clock; frames are 20 ms."""

    def __init__(self, since: float, quiet_ms: int, max_wait_s: float,
                 frame_ms: int = 20) -> None:
        self.since = since
        self.quiet_s = quiet_ms / 1000
        self.max_wait_s = max_wait_s
        self.frame_s = frame_ms / 1000
        self.speech_s = 0.0
        self.last_loud: float | None = None

    def heard(self, at: float, dbfs: float) -> None:
        """One frame the caller received at `at`."""
        if at < self.since or dbfs <= SPEECH_DBFS:
            return
        self.speech_s += self.frame_s
        self.last_loud = at if self.last_loud is None else max(self.last_loud, at)

    def due(self, now: float) -> str | None:
        """"quiet", "no reply", or None while the caller should still wait."""
        replied = self.speech_s * 1000 >= MIN_SPEECH_MS - 1e-6
        if replied and self.last_loud is not None and now - self.last_loud >= self.quiet_s:
            return "quiet"
        if now - self.since >= self.max_wait_s:
            return "no reply"
        return None


class CueGiver:
    """The cue end of sipp's twin link, for one call. ``async with CueGiver(...) as giver``
    listens on a free loopback port (``giver.port``, for sipp's ``-3pcc``: a scenario whose
    first twin command is a ``<sendCmd>`` connects to it) and answers the waits of the lines
    in `quiet_ms` (line index -> its after_reply_quiet_ms). Leave the block only once sipp has
    ended; ``giver.cues`` holds every cue given."""

    def __init__(self, *, pcap: Path, media_port: int, codec: str, quiet_ms: dict[int, int],
                 max_wait_s: float) -> None:
        self.pcap = pcap
        self.media_port = media_port
        self.codec = codec
        self.quiet_ms = quiet_ms
        self.max_wait_s = max_wait_s
        self.cues: list[Cue] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> CueGiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.cancel()
        for link in list(self._links):
            with contextlib.suppress(asyncio.CancelledError):
                await link
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        try:
            await self._answer(reader, writer)
        finally:
            self._links.discard(task)
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tail = PcapTail(self.pcap, self.media_port)
        decode = get_codec(self.codec).decode
        waiting: list[tuple[int, str, ReplyWatch]] = []
        pending = b""
        read = asyncio.ensure_future(reader.read(4096))
        try:
            while True:
                done, _ = await asyncio.wait({read}, timeout=_POLL_S)
                if done:
                    chunk = read.result()
                    if not chunk:
                        return  # sipp has gone
                    pending += chunk
                    *commands, pending = pending.split(_END)
                    for command in commands:
                        waiting += self._waits(command.decode(errors="replace"))
                    read = asyncio.ensure_future(reader.read(4096))
                _, received = tail.read()
                for packet in received:
                    dbfs = frame_dbfs(decode(packet.rtp.payload))
                    for _, _, watch in waiting:
                        watch.heard(packet.time, dbfs)
                now = time.time()
                for entry in list(waiting):
                    index, call_id, watch = entry
                    reason = watch.due(now)
                    if reason is None:
                        continue
                    writer.write(f"Call-ID: {call_id}\r\n\r\n".encode() + _END)
                    await writer.drain()
                    self.cues.append(Cue(index, watch.since, now, reason))
                    waiting.remove(entry)
        finally:
            read.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await read

    def _waits(self, command: str) -> list[tuple[int, str, ReplyWatch]]:
        """The wait a twin command from sipp announces (none for anything else)."""
        line, call_id = _WAITING.search(command), _CALL_ID.search(command)
        if line is None or call_id is None:
            return []
        index = int(line.group(1))
        watch = ReplyWatch(time.time(), self.quiet_ms.get(index, 1000), self.max_wait_s)
        return [(index, call_id.group(1), watch)]
