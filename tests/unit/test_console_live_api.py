"""The console's live routes on a served console (uvicorn on a free port, a real SQLite
file): `WS /api/live` refused without a session (4401) or from another origin (4403), a
snapshot then the events, unsubscribed when the browser goes; listen-in frames; hang-up
and transfer need a session and the CSRF header, answer 404 for a call not live, and are
written to the audit log."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
import websockets
from console_fixtures import Console, console, login
from test_console_live_bus import CALL, Control

from ari_app.api.serve import listen_socket
from ari_app.call.observer import UnknownTarget
from ari_app.console.auth import COOKIE, CSRF_HEADER
from ari_app.console.server import _EmbeddedServer


@contextlib.asynccontextmanager
async def served(c: Console) -> AsyncIterator[str]:
    sock = listen_socket("127.0.0.1", 0, "test")
    port = sock.getsockname()[1]
    config = uvicorn.Config(c.app, log_config=None, access_log=False,  # type: ignore[arg-type]
                            lifespan="off")
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await asyncio.wait_for(server.listening.wait(), 5)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def cookie_of(host: str, name: str) -> tuple[str, str]:
    """Signs in; the session cookie's header value and the CSRF token."""
    async with httpx.AsyncClient(base_url=f"http://{host}") as client:
        csrf = await login(client, name)
        return f"{COOKIE}={client.cookies[COOKIE]}", csrf


async def close_code(ws: websockets.ClientConnection) -> int | None:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 2)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_the_live_socket_needs_a_session_of_this_origin(tmp_path: Path) -> None:
    async with console(tmp_path) as c, served(c) as host:
        async with websockets.connect(f"ws://{host}/api/live") as ws:
            assert await close_code(ws) == 4401
        async with websockets.connect(f"ws://{host}/api/live",
                                      additional_headers={"Cookie": f"{COOKIE}=forged"}) as ws:
            assert await close_code(ws) == 4401
        cookie, _ = await cookie_of(host, "rita")
        async with websockets.connect(
            f"ws://{host}/api/live", origin="http://evil.example",  # type: ignore[arg-type]
            additional_headers={"Cookie": cookie},
        ) as ws:
            assert await close_code(ws) == 4403


async def test_snapshot_then_events_and_unsubscribed_on_close(tmp_path: Path) -> None:
    async with console(tmp_path) as c, served(c) as host:
        first = c.live.call_started(CALL, Control())
        first.turn("secretary", "Hello!", 1001.0, 1002.0)
        cookie, _ = await cookie_of(host, "rita")
        async with websockets.connect(f"ws://{host}/api/live", origin=f"http://{host}",  # type: ignore[arg-type]
                                      additional_headers={"Cookie": cookie}) as ws:
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), 2))
            assert snapshot["type"] == "snapshot"
            assert snapshot["calls"][0]["turns"][0]["text"] == "Hello!"
            assert c.live.subscribers == 1
            first.turn("caller", "opening hours?", 1003.0, 1004.0)
            first.ended("caller_hangup", 1005.0)
            turn = json.loads(await asyncio.wait_for(ws.recv(), 2))
            ended = json.loads(await asyncio.wait_for(ws.recv(), 2))
            assert turn["turn"]["text"] == "opening hours?"
            assert ended == {"type": "call_ended", "call_id": "c1", "ended_by": "caller_hangup",
                             "ended_at": 1005.0}
        for _ in range(100):
            if c.live.subscribers == 0:
                break
            await asyncio.sleep(0.02)
        assert c.live.subscribers == 0


async def test_listen_in_sends_mixed_frames_and_is_audited(tmp_path: Path) -> None:
    async with console(tmp_path) as c, served(c) as host:
        watch = c.live.call_started(CALL, Control())
        cookie, _ = await cookie_of(host, "rita")
        async with websockets.connect(f"ws://{host}/api/live/nope/listen",
                                      additional_headers={"Cookie": cookie}) as ws:
            assert await close_code(ws) == 4404
        async with websockets.connect(f"ws://{host}/api/live/c1/listen",
                                      additional_headers={"Cookie": cookie}) as ws:
            for _ in range(100):  # the listener joins once the socket is accepted
                if c.live.calls["c1"].mixer and c.live.calls["c1"].mixer.listeners:
                    break
                await asyncio.sleep(0.01)
            tone = (1000).to_bytes(2, "little", signed=True) * 160
            loud = 0
            for _ in range(10):
                watch.caller_audio(tone, 8000)
                frame = await asyncio.wait_for(ws.recv(), 2)
                assert isinstance(frame, bytes) and len(frame) == 320
                loud += frame == tone
            assert loud >= 5
            watch.ended("caller_hangup", 1010.0)
            with pytest.raises(websockets.ConnectionClosedOK):
                while True:
                    await asyncio.wait_for(ws.recv(), 2)
        audit = await c.users.audit_log(5)
        assert ("rita", "listen_in", {"call_id": "c1"}) in [
            (a["who"], a["what"], a["details"]) for a in audit]


async def test_hangup_and_transfer_need_a_session_and_csrf(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        control = Control()
        c.live.call_started(CALL, control)
        assert (await client.post("/api/live/c1/hangup")).status_code == 401
        assert (await client.post("/api/live/c1/transfer", json={"to": "anna"})).status_code == 401
        csrf = await login(client, "rita")
        assert (await client.post("/api/live/c1/hangup")).status_code == 403  # no CSRF header
        assert (await client.post("/api/live/c1/transfer", json={"to": "anna"})).status_code == 403
        headers = {CSRF_HEADER: csrf}
        assert (await client.post("/api/live/zz/hangup", headers=headers)).status_code == 404
        assert (await client.post("/api/live/zz/transfer", json={"to": "anna"},
                                  headers=headers)).status_code == 404
        moved = await client.post("/api/live/c1/transfer", json={"to": "anna"}, headers=headers)
        assert moved.status_code == 200, moved.text
        assert moved.json()["target"] == "200"
        assert control.transfers == [("anna", "rita")]
        done = await client.post("/api/live/c1/hangup", headers=headers)
        assert done.status_code == 200 and control.hung_up_by == ["rita"]
        audit = [(a["who"], a["what"], a["details"].get("call_id"))
                 for a in await c.users.audit_log(10)]
        assert ("rita", "hangup", "c1") in audit and ("rita", "transfer", "c1") in audit


async def test_a_transfer_to_nobody_is_refused(tmp_path: Path) -> None:
    class NoOne(Control):
        def operator_transfer(self, to: str, by: str) -> str:
            raise UnknownTarget(f"{to!r} is nobody")

    async with console(tmp_path) as c, c.client() as client:
        c.live.call_started(CALL, NoOne())
        csrf = await login(client, "root")
        refused = await client.post("/api/live/c1/transfer", json={"to": "xyz"},
                                    headers={CSRF_HEADER: csrf})
        assert refused.status_code == 422 and "nobody" in refused.text
