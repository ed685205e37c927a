"""The console's live calls (docs/console.md, "Live calls"): `WS /api/live` (the events of
the calls in progress), `WS /api/live/{call_id}/listen` (their audio), and what an operator
does to one: `POST /api/live/{call_id}/hangup` and `/transfer`. Receptionist or admin.

A WebSocket is authenticated by the session cookie; it is accepted and then closed with
4401 without a live session, 4403 for a role that may not use it or a page of another
origin, 4404 for a call that is not live.
"""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies local to the router's builder
import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

from ari_app.call.observer import OperatorError, UnknownTarget
from ari_app.console.auth import COOKIE, Auth, Caller, require, signed_in
from ari_app.console.live import CallState, LiveBus

log = logging.getLogger(__name__)

STAFF_ROLES = ("admin", "receptionist")
NOT_SIGNED_IN, FORBIDDEN, NOT_LIVE = 4401, 4403, 4404


class TransferTo(BaseModel):
    to: str  # a staff member's or department's name or key, or an extension


async def _admit(auth: Auth, websocket: WebSocket) -> Caller | None:
    """Accept the socket; the signed-in staff user, or None once it is closed with why."""
    await websocket.accept()
    caller = await signed_in(auth, websocket.cookies.get(COOKIE))
    if caller is None:
        await websocket.close(NOT_SIGNED_IN, "not signed in")
        return None
    origin = websocket.headers.get("origin")
    if caller.role not in STAFF_ROLES or (
        origin and urlsplit(origin).netloc != websocket.headers.get("host")
    ):
        await websocket.close(FORBIDDEN, "not allowed")
        return None
    return caller


async def _closed_by_client(websocket: WebSocket) -> None:
    """Returns when the browser goes away (what it sends is ignored)."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


async def _send_until_closed(websocket: WebSocket,
                             send: Callable[[], Coroutine[Any, Any, None]],
                             done: Callable[[], None]) -> None:
    """Run `send` until it ends or the browser goes away; then `done`."""
    tasks = {asyncio.create_task(send()), asyncio.create_task(_closed_by_client(websocket))}
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        done()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def live_router(auth: Auth, bus: LiveBus) -> APIRouter:
    router = APIRouter(tags=["live"])
    Staff = Annotated[Caller, Depends(require(auth, *STAFF_ROLES))]

    def live_call(call_id: str) -> CallState:
        state = bus.calls.get(call_id)
        if state is None:
            raise HTTPException(404, f"no live call {call_id}")
        return state

    @router.websocket("/live")
    async def events(websocket: WebSocket) -> None:
        if await _admit(auth, websocket) is None:
            return
        subscriber = bus.subscribe()

        async def send() -> None:
            while True:
                await websocket.send_json(await subscriber.next())

        await _send_until_closed(websocket, send, lambda: bus.unsubscribe(subscriber))

    @router.websocket("/live/{call_id}/listen")
    async def listen(websocket: WebSocket, call_id: str) -> None:
        caller = await _admit(auth, websocket)
        if caller is None:
            return
        mixer = bus.listen(call_id)
        if mixer is None:
            await websocket.close(NOT_LIVE, "no such live call")
            return
        await auth.users.audit(caller.name, "listen_in", call_id=call_id)
        listening = mixer.join()

        async def send() -> None:
            while (frame := await listening.next()) is not None:
                await websocket.send_bytes(frame)
            await websocket.close(1000, "the call ended")

        await _send_until_closed(websocket, send, lambda: mixer.leave(listening))

    @router.post("/live/{call_id}/hangup")
    async def hangup(call_id: str, caller: Staff) -> dict[str, Any]:
        state = live_call(call_id)
        await auth.users.audit(caller.name, "hangup", call_id=call_id)
        state.control.operator_hangup(caller.name)
        return {"call_id": call_id, "ended_by": "operator_hangup"}

    @router.post("/live/{call_id}/transfer")
    async def transfer(call_id: str, body: TransferTo, caller: Staff) -> dict[str, Any]:
        state = live_call(call_id)
        try:
            target = state.control.operator_transfer(body.to, caller.name)
        except UnknownTarget as exc:
            raise HTTPException(422, str(exc)) from None
        except OperatorError as exc:
            raise HTTPException(409, str(exc)) from None
        await auth.users.audit(caller.name, "transfer", call_id=call_id, to=body.to,
                               target=target)
        return {"call_id": call_id, "to": body.to, "target": target}

    return router
