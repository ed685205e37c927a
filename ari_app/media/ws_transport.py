"""Media over Asterisk's chan_websocket (externalMedia transport=websocket, format=slin16).

What the protocol looks like (Asterisk docs, Configuration/Channel-Drivers/WebSocket, and
channels/chan_websocket.c, Asterisk 22.6+; checked 2026):

* externalMedia with connection_type=server sets MEDIA_WEBSOCKET_CONNECTION_ID; the app connects
  to ``ws://HOST:8088/media/<id>`` on Asterisk's global HTTP server. That URI takes no ARI
  credentials: the unguessable connection id is the only check (404 for an unknown id, 409 for
  a second connection). chan_websocket registers one subprotocol ("media"), and Asterisk
  accepts a client that requests none when exactly one is registered, so none is requested.
* BINARY messages carry raw media both ways (slin16: s16le, 16 kHz, no header). Asterisk sends
  its internal frame size (640 bytes / 20 ms for slin16); we may send any length up to 65500
  bytes (a longer message closes the socket and hangs up), ideally multiples of
  optimal_frame_size, which Asterisk re-frames and re-times.
* TEXT messages are control. Asterisk -> app: ``MEDIA_START connection_id:<id> channel:<name>
  channel_id:<uniqueid> format:<fmt> optimal_frame_size:<n> ptime:<ms>``, ``DTMF_END digit:<d>
  channel_id:<id>``, ``MEDIA_XOFF`` (queue ~900 frames: stop sending), ``MEDIA_XON`` (below
  ~800: resume), ``STATUS ...``, ``MEDIA_BUFFERING_COMPLETED [id]``, ``QUEUE_DRAINED``,
  ``ERROR channel_id:<id> error_text:<text>``. With chan_websocket.conf
  control_message_format=json (22.7+) the same events are JSON objects with an "event" key.
  App -> Asterisk commands: ANSWER, HANGUP, START_MEDIA_BUFFERING, STOP_MEDIA_BUFFERING [id],
  FLUSH_MEDIA, PAUSE_MEDIA, CONTINUE_MEDIA, GET_STATUS, REPORT_QUEUE_DRAINED (``send_control``).

Every control message is parsed into a dict (``{"event": NAME, key: value, ..., "raw": text}``;
the size/level fields become ints, everything else stays text as sent) and appended to
``control_messages``; it never reaches ``read_frame()``. While Asterisk has signalled
MEDIA_XOFF, ``write_frame`` drops frames (counted as ``xoff``) rather than feed a queue that
will discard them anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from ari_app.media.pcm import SampleCarry, whole_samples
from ari_app.media.transport import FrameQueue, TransportStats

log = logging.getLogger(__name__)

SLIN16_RATE = 16000
MAX_MESSAGE_BYTES = 65500
MAX_FRAME_BYTES = 64000  # 2 s of slin16: a larger "optimal frame" is not one
_INT_FIELDS = frozenset({"optimal_frame_size", "ptime", "queue_length", "xon_level", "xoff_level"})
_SEND_CHUNK = MAX_MESSAGE_BYTES - MAX_MESSAGE_BYTES % 640  # whole 20 ms slin16 frames


def parse_control(text: str) -> dict[str, Any]:
    """Parse one chan_websocket TEXT message (plain-text or JSON format) into a dict."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError):  # broken, or nested past the limit
            obj = None
        if isinstance(obj, dict):
            obj.setdefault("event", "")
            obj["raw"] = text
            return obj
    name, _, rest = stripped.partition(" ")
    msg: dict[str, Any] = {"event": name}
    args: list[str] = []
    key: str | None = None
    for token in rest.split():
        k, sep, value = token.partition(":")
        if sep and k and k.isidentifier():
            key = k
            msg[key] = value
        elif key is not None:  # a value with spaces (e.g. error_text)
            msg[key] = f"{msg[key]} {token}"
        else:
            args.append(token)
    for k in _INT_FIELDS.intersection(msg):
        if msg[k].isascii() and msg[k].isdigit() and len(msg[k]) <= 9:  # a sane count
            msg[k] = int(msg[k])
    if args:
        msg["args"] = args
    msg["raw"] = text
    return msg


class WebSocketTransport:
    """One chan_websocket media leg; implements ``MediaTransport`` at 16000 Hz (slin16)."""

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        queue_frames: int = 200,
        open_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.headers = dict(headers or {})
        self.sample_rate = SLIN16_RATE
        self.stats = TransportStats()
        self.paced = False  # Asterisk re-times what we send; the player paces it
        self.control_messages: list[dict[str, Any]] = []
        self.optimal_frame_size: int | None = None
        self.xoff = False
        self.media_started = asyncio.Event()
        self.close_code: int | None = None
        self._open_timeout = open_timeout
        self._queue = FrameQueue(queue_frames, self.stats)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._carry = SampleCarry()
        self._closed = False

    async def start(self) -> None:
        """Connect; raises ConnectionError (e.g. HTTP 404 for an unknown connection id)."""
        kwargs: dict[str, Any] = {
            "additional_headers": self.headers or None,
            "open_timeout": self._open_timeout,
            "compression": None,
            "max_size": None,
        }
        if int(websockets.__version__.split(".")[0]) >= 15:
            kwargs["proxy"] = None  # never route the local media socket through a proxy
        try:
            self._ws = await connect(self.url, **kwargs)
        except (WebSocketException, OSError, TimeoutError) as exc:
            raise ConnectionError(f"media websocket {self.url}: {exc}") from exc
        self._reader = asyncio.create_task(self._read_loop(self._ws), name="ws-media-reader")

    async def read_frame(self) -> bytes | None:
        return await self._queue.get()

    async def write_frame(self, pcm: bytes) -> None:
        ws = self._ws
        if self._closed or ws is None:
            self.stats.drop("closed")
            return
        if self.xoff:
            self.stats.drop("xoff")
            return
        pcm = whole_samples(pcm)
        if not pcm:
            return
        try:
            for start in range(0, len(pcm), _SEND_CHUNK):
                await ws.send(pcm[start : start + _SEND_CHUNK])
        except (ConnectionClosed, OSError) as exc:
            self.stats.drop("closed")
            log.debug("media websocket send failed: %s", exc)
            return
        self.stats.sent += 1

    def flush(self) -> int:
        """Nothing is queued here: each frame is sent as it is written."""
        return 0

    async def flush_far_end(self) -> None:
        """chan_websocket buffers what we sent: drop it (FLUSH_MEDIA)."""
        await self.send_control("FLUSH_MEDIA")

    async def drained(self) -> None:
        """Sent as written: nothing waits here."""

    def take_send_jitter(self) -> list[float]:
        return []

    async def send_control(self, command: str) -> bool:
        """Send a TEXT command (e.g. "FLUSH_MEDIA", "HANGUP"); False if the socket is gone."""
        if self._closed or self._ws is None:
            return False
        try:
            await self._ws.send(command)
        except (ConnectionClosed, OSError):
            return False
        return True

    async def wait_media_start(self, wait_s: float) -> dict[str, Any] | None:
        """The MEDIA_START message, or None if it did not come within ``wait_s`` seconds."""
        try:
            await asyncio.wait_for(self.media_started.wait(), wait_s)
        except TimeoutError:
            return None
        return next(m for m in self.control_messages if m.get("event") == "MEDIA_START")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.close(discard=True)
        if self._ws is not None:
            with contextlib.suppress(WebSocketException, OSError):
                await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _read_loop(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                if isinstance(message, str):
                    self._on_control(message)
                else:
                    self._on_audio(message)
        except ConnectionClosed:
            pass
        except (WebSocketException, OSError) as exc:
            log.warning("media websocket failed: %s", exc)
        finally:
            self.close_code = ws.close_code
            self._queue.close(discard=self._closed)

    def _on_audio(self, data: bytes) -> None:
        pcm = self._carry.take(data)
        if pcm:
            self.stats.received += 1
            self._queue.put(pcm)

    def _on_control(self, text: str) -> None:
        msg = parse_control(text)
        self.control_messages.append(msg)
        event = msg.get("event")
        if event == "MEDIA_START":
            size = msg.get("optimal_frame_size")
            if type(size) is int and 0 < size <= MAX_FRAME_BYTES:  # not a bool, not absurd
                self.optimal_frame_size = size
            self.media_started.set()
        elif event == "MEDIA_XOFF":
            self.xoff = True
        elif event == "MEDIA_XON":
            self.xoff = False
        log.debug("media websocket control: %s", text)
