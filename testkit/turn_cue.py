"""The test caller answers when the secretary has answered and fallen quiet, as a person does.

A fixed pause before each caller line has to cover the slowest reply the test can meet, so most
calls sit in silence, and a pause too short makes the caller talk over the reply. A
``CallerLine`` with ``after_reply_quiet_ms`` instead waits for its cue. sipp cannot hear, so
the scenario stops before that line (``testkit/scenario.py``): sipp, started with ``-3pcc``,
sends a twin command naming the line and waits for one back. ``CueGiver`` is the other end of
that link: it reads the RTP the caller receives from the call's packet capture while tcpdump
writes it (``PcapTail``) and answers once ``ReplyWatch`` says the secretary has spoken since the
wait began and has been quiet for the line's ``after_reply_quiet_ms``; after ``max_wait_s`` with
no such reply it lets the caller go on anyway, and says so in the cue's reason. A line's keys
can wait the same way for what the secretary says to them (``after_keys_quiet_ms``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ari_app.media.codecs import get_codec
from ari_app.media.loudness import frame_dbfs
from testkit.capture import PcapTail
from testkit.scenario import (
    CUE_AFTER_HEADER,
    CUE_LINE_HEADER,
    CUE_QUIET_HEADER,
    CUE_REPLIES_HEADER,
)

SPEECH_DBFS = -40.0  # a received frame louder than this is the secretary speaking
MIN_SPEECH_MS = 200  # this much speech since the wait began makes a reply
# a frame with this share of its energy within 100 Hz of its strongest frequency is a
# tone (the ring-back while a staff member is rung), not speech. 20 ms of a vowel can look
# like one too (about 1 speech frame in 6 on the human test set), but never for long (at
# most 9 frames in a row there): a reply still counts, and its pauses are not stretched
TONE_SHARE = 0.9
_POLL_S = 0.02
_WAITING = re.compile(rf"{CUE_LINE_HEADER}:\s*(\d+)")
_AFTER = re.compile(rf"{CUE_AFTER_HEADER}:\s*(\w+)")
_QUIET = re.compile(rf"{CUE_QUIET_HEADER}:\s*(\d+)")
_REPLIES = re.compile(rf"{CUE_REPLIES_HEADER}:\s*(\d+)")
_CALL_ID = re.compile(r"Call-ID:\s*(\S+)", re.IGNORECASE)
_END = b"\x1b"  # sipp ends each twin command with ESC


@dataclass(frozen=True)
class Cue:
    """One cue given: the caller's line, what it waited for the answer to ("reply": the
    line before; "keys": the line's own keys), when (epoch seconds), and why ("quiet" after
    a reply, or "no reply" when none came within the longest wait)."""

    line: int
    after: str
    waited_from: float
    at: float
    reason: str


def is_tone(pcm: bytes, rate: int = 8000) -> bool:
    """A frame of 16-bit `pcm` that is one steady tone (see TONE_SHARE)."""
    x = np.frombuffer(pcm, "<i2").astype(np.float64)
    if len(x) < 32:
        return False
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    total = float(power.sum())
    if total <= 0:
        return False
    peak = int(power.argmax())
    reach = max(1, round(100 * len(x) / rate))  # bins within 100 Hz
    return float(power[max(0, peak - reach): peak + reach + 1].sum()) >= TONE_SHARE * total


class ReplyWatch:
    """Whether the caller waiting since `since` may speak: it has heard `replies` replies
    since then (each at least MIN_SPEECH_MS of speech, followed by nothing loud for
    `quiet_ms`), or `max_wait_s` has passed. Times are seconds on one clock; frames are
    20 ms. A tone is not speech."""

    def __init__(self, since: float, quiet_ms: int, max_wait_s: float,
                 frame_ms: int = 20, replies: int = 1) -> None:
        self.since = since
        self.quiet_s = quiet_ms / 1000
        self.max_wait_s = max_wait_s
        self.frame_s = frame_ms / 1000
        self.replies = replies
        self.done = 0  # replies over (quiet after them) before the one under way
        self.speech_s = 0.0  # of the reply under way
        self.last_loud: float | None = None

    def _replied(self) -> bool:
        return self.speech_s * 1000 >= MIN_SPEECH_MS - 1e-6

    def heard(self, at: float, dbfs: float, tone: bool = False) -> None:
        """One frame the caller received at `at`."""
        if at < self.since or dbfs <= SPEECH_DBFS or tone:
            return
        if self.last_loud is not None and at - self.last_loud >= self.quiet_s:
            self.done += self._replied()  # quiet long enough: that reply is over
            self.speech_s = 0.0
        self.speech_s += self.frame_s
        self.last_loud = at if self.last_loud is None else max(self.last_loud, at)

    def due(self, now: float) -> str | None:
        """"quiet", "no reply", or None while the caller should still wait."""
        over = self.last_loud is not None and now - self.last_loud >= self.quiet_s
        if self.done + (self._replied() and over) >= self.replies:
            return "quiet"
        if now - self.since >= self.max_wait_s:
            return "no reply"
        return None


class CueGiver:
    """The cue end of sipp's twin link, for one call. ``async with CueGiver(...) as giver``
    listens on a free loopback port (``giver.port``, for sipp's ``-3pcc``: a scenario whose
    first twin command is a ``<sendCmd>`` connects to it) and answers each wait that sipp
    announces (the line, what it waits after, how much quiet: ``build_uac_scenario``).
    Leave the block only once sipp has ended; ``giver.cues`` holds every cue given."""

    def __init__(self, *, pcap: Path, media_port: int, codec: str, max_wait_s: float) -> None:
        self.pcap = pcap
        self.media_port = media_port
        self.codec = codec
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
        waiting: list[tuple[tuple[int, str], str, ReplyWatch]] = []
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
                    pcm = decode(packet.rtp.payload)
                    dbfs = frame_dbfs(pcm)
                    tone = dbfs > SPEECH_DBFS and is_tone(pcm)
                    for _, _, watch in waiting:
                        watch.heard(packet.time, dbfs, tone)
                now = time.time()
                for entry in list(waiting):
                    (index, after), call_id, watch = entry
                    reason = watch.due(now)
                    if reason is None:
                        continue
                    writer.write(f"Call-ID: {call_id}\r\n\r\n".encode() + _END)
                    await writer.drain()
                    self.cues.append(Cue(index, after, watch.since, now, reason))
                    waiting.remove(entry)
        finally:
            read.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await read

    def _waits(self, command: str) -> list[tuple[tuple[int, str], str, ReplyWatch]]:
        """The wait a twin command from sipp announces (none for anything else)."""
        line, call_id = _WAITING.search(command), _CALL_ID.search(command)
        after, quiet = _AFTER.search(command), _QUIET.search(command)
        if line is None or call_id is None or after is None or quiet is None:
            return []
        replies = _REPLIES.search(command)
        watch = ReplyWatch(time.time(), int(quiet.group(1)), self.max_wait_s,
                           replies=int(replies.group(1)) if replies else 1)
        return [((int(line.group(1)), after.group(1)), call_id.group(1), watch)]
