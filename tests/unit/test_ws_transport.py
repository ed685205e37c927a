import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from ari_app.media.transport import MediaTransport
from ari_app.media.ws_transport import WebSocketTransport, parse_control

CONNECTION_ID = "32966726-4388-456b-a333-fdf5dbecc60d"


class FakeChanWebsocket:
    """Plays Asterisk's chan_websocket: accepts /media/<id>, announces MEDIA_START, streams
    slin16 in uneven chunks with control messages in between, records what the app sends."""

    def __init__(
        self, chunks: list[bytes], extra_text: list[str] | None = None, close_after: bool = False
    ) -> None:
        self.chunks = chunks
        self.extra_text = extra_text or []
        self.close_after = close_after
        self.binary: list[bytes] = []
        self.text: list[str] = []
        self.got_binary = asyncio.Event()
        self.got_text = asyncio.Event()
        self.paths: list[str] = []
        self.server: Server | None = None

    async def handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        self.paths.append(path)
        if path != f"/media/{CONNECTION_ID}":
            await ws.close(1008, "unknown connection id")
            return
        await ws.send(
            f"MEDIA_START connection_id:{CONNECTION_ID} channel:WebSocket/INCOMING/0x7f00 "
            "channel_id:1700000000.7 format:slin16 optimal_frame_size:640 ptime:20"
        )
        for i, chunk in enumerate(self.chunks):
            await ws.send(chunk)
            if i < len(self.extra_text):
                await ws.send(self.extra_text[i])
        if self.close_after:
            await ws.close()
            return
        try:
            async for message in ws:
                if isinstance(message, str):
                    self.text.append(message)
                    self.got_text.set()
                else:
                    self.binary.append(message)
                    self.got_binary.set()
        except ConnectionClosed:
            pass

    async def __aenter__(self) -> str:
        self.server = await serve(self.handler, "127.0.0.1", 0, compression=None)
        port = next(iter(self.server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/media/{CONNECTION_ID}"

    async def __aexit__(self, *exc: Any) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def audio(n: int, seed: int = 1) -> bytes:
    return bytes((seed + i) % 251 for i in range(n))


@pytest.fixture
def audio_chunks() -> list[bytes]:
    # not 20 ms multiples, one even split across a sample boundary
    return [audio(640), audio(1001, 2), audio(333, 3), audio(2, 4)]


async def read_all(t: WebSocketTransport) -> bytes:
    out = b""
    while True:
        async with asyncio.timeout(2):
            frame = await t.read_frame()
        if frame is None:
            return out
        assert len(frame) % 2 == 0
        out += frame


async def test_audio_only_through_read_frame(audio_chunks: list[bytes]) -> None:
    fake = FakeChanWebsocket(
        audio_chunks,
        extra_text=["DTMF_END digit:5 channel_id:1700000000.7", "MEDIA_XOFF", "MEDIA_XON"],
        close_after=True,
    )
    async with fake as url:
        t = WebSocketTransport(url)
        assert isinstance(t, MediaTransport)
        assert t.sample_rate == 16000
        await t.start()
        received = await read_all(t)  # ends with None when Asterisk closes
        await t.close()
    sent = b"".join(audio_chunks)
    assert received == sent
    assert t.stats.received >= 3
    events = [m["event"] for m in t.control_messages]
    assert events == ["MEDIA_START", "DTMF_END", "MEDIA_XOFF", "MEDIA_XON"]
    start = t.control_messages[0]
    assert start["optimal_frame_size"] == 640
    assert start["format"] == "slin16"
    assert start["connection_id"] == CONNECTION_ID
    assert start["channel"] == "WebSocket/INCOMING/0x7f00"
    assert t.control_messages[1]["digit"] == "5"
    assert t.optimal_frame_size == 640
    assert t.xoff is False
    assert fake.paths == [f"/media/{CONNECTION_ID}"]


async def test_write_frame_arrives_as_binary_and_control_as_text() -> None:
    fake = FakeChanWebsocket([audio(640)])
    async with fake as url:
        t = WebSocketTransport(url)
        await t.start()
        assert (await t.wait_media_start(2) or {}).get("event") == "MEDIA_START"
        frame = audio(640, 9)
        await t.write_frame(frame)
        await asyncio.wait_for(fake.got_binary.wait(), 2)
        assert fake.binary == [frame]
        assert await t.send_control("FLUSH_MEDIA")
        await asyncio.wait_for(fake.got_text.wait(), 2)
        assert fake.text == ["FLUSH_MEDIA"]
        assert t.stats.sent == 1
        assert await t.read_frame() == audio(640)
        await t.close()
    assert await t.read_frame() is None
    await t.write_frame(audio(640))
    assert t.stats.dropped == {"closed": 1}


async def test_xoff_pauses_writes() -> None:
    fake = FakeChanWebsocket([], extra_text=[])
    async with fake as url:
        t = WebSocketTransport(url)
        await t.start()
        await t.wait_media_start(2)
        t._on_control("MEDIA_XOFF")
        await t.write_frame(audio(640))
        assert t.stats.dropped == {"xoff": 1}
        t._on_control("MEDIA_XON")
        await t.write_frame(audio(640))
        await asyncio.wait_for(fake.got_binary.wait(), 2)
        assert len(fake.binary) == 1
        await t.close()


async def test_close_wakes_a_blocked_reader() -> None:
    fake = FakeChanWebsocket([])
    async with fake as url:
        t = WebSocketTransport(url)
        await t.start()
        reader = asyncio.create_task(t.read_frame())
        await asyncio.sleep(0.05)
        await t.close()
        assert await asyncio.wait_for(reader, 2) is None


async def test_connect_failure_raises_connection_error() -> None:
    t = WebSocketTransport("ws://127.0.0.1:1/media/nope")
    with pytest.raises(ConnectionError):
        await t.start()


def test_parse_control_plain_text() -> None:
    m = parse_control("STATUS queue_length:43 xon_level:800 xoff_level:900 queue_full:false")
    assert m["event"] == "STATUS"
    assert (m["queue_length"], m["queue_full"]) == (43, "false")
    m = parse_control("ERROR channel_id:1.2 error_text:Frame too big to send")
    assert m["error_text"] == "Frame too big to send"
    assert parse_control("MEDIA_BUFFERING_COMPLETED greeting-1")["args"] == ["greeting-1"]
    assert parse_control("QUEUE_DRAINED") == {"event": "QUEUE_DRAINED", "raw": "QUEUE_DRAINED"}


def test_parse_control_json() -> None:
    raw = json.dumps({"event": "MEDIA_START", "optimal_frame_size": 640, "ptime": 20})
    m = parse_control(raw)
    assert m["event"] == "MEDIA_START"
    assert m["optimal_frame_size"] == 640
    assert m["raw"] == raw


async def test_a_cut_playback_is_flushed_at_asterisk_and_nothing_waits_here() -> None:
    fake = FakeChanWebsocket([audio(640)])
    async with fake as url:
        t = WebSocketTransport(url)
        await t.start()
        await t.wait_media_start(2)
        assert not t.paced and t.flush() == 0 and t.take_send_jitter() == []
        await t.write_frame(audio(640, 9))
        await asyncio.wait_for(t.drained(), 1)  # sent as written
        await t.flush_far_end()
        await asyncio.wait_for(fake.got_text.wait(), 2)
        assert fake.text == ["FLUSH_MEDIA"]
        await t.close()
