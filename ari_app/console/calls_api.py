"""The console's call history: `/api/calls`, `/api/calls/{call_id}` and its recording
(`/audio`), `/api/messages` (receptionist or admin), and `/api/audit` (admin)."""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies local to the router's builder
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel

from ari_app.console.auth import Auth, Caller, require
from ari_app.console.recording import RecordingMissing, recording_of
from ari_app.console.users import UserStore
from ari_app.storage import CallStore

MAX_PAGE = 200
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0)]


def parse_when(value: str | None, name: str) -> float | None:
    """A unix timestamp from "1764892800", "2026-12-05" or "2026-12-05T10:00:00+03:00"
    (no zone: UTC)."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{name}: expected a date, date-time or unix time, "
                                 f"got {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


class Handled(BaseModel):
    handled: bool


def calls_router(auth: Auth, store: CallStore, users: UserStore) -> APIRouter:
    router = APIRouter(tags=["calls"])
    Staff = Annotated[Caller, Depends(require(auth, "admin", "receptionist"))]

    @router.get("/calls")
    async def list_calls(
        _: Staff,
        limit: Limit = 50,
        offset: Offset = 0,
        date_from: Annotated[str | None, Query(description="started at or after")] = None,
        date_to: Annotated[str | None, Query(description="started before")] = None,
        line: str | None = None,
        caller: Annotated[str | None, Query(description="part of the caller's number")] = None,
        ended_by: str | None = None,
        q: Annotated[str | None, Query(description="words said in the call")] = None,
        node: Annotated[str | None, Query(description="the box that took it")] = None,
    ) -> dict[str, Any]:
        items, total = await store.search_calls(
            limit, offset,
            started_from=parse_when(date_from, "date_from"),
            started_to=parse_when(date_to, "date_to"),
            line=line, caller=caller, ended_by=ended_by, words=q, node=node,
        )  # fmt: skip
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    @router.get("/calls/{call_id}")
    async def get_call(call_id: str, _: Staff) -> dict[str, Any]:
        call = await store.get_call(call_id)
        if call is None:
            raise HTTPException(404, f"no call {call_id}")
        return call

    @router.get("/calls/{call_id}/audio", response_class=FileResponse,
                responses={200: {"content": {"audio/wav": {}}}, 206: {}, 404: {}})
    async def get_audio(call_id: str, _: Staff) -> FileResponse:
        """The call's recording, both sides (stereo: the caller left, the secretary
        right), as audio/wav; seekable (HTTP Range)."""
        call = await store.get_call(call_id)
        if call is None:
            raise HTTPException(404, f"no call {call_id}")
        try:
            path = await recording_of(call)
        except RecordingMissing:
            raise HTTPException(404, f"no recording of call {call_id}") from None
        return FileResponse(path, media_type="audio/wav", filename=f"call-{call_id}.wav",
                            content_disposition_type="inline")

    @router.get("/messages")
    async def list_messages(_: Staff, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        items = await store.message_page(limit, offset)
        return {"items": items, "limit": limit, "offset": offset}

    @router.post("/messages/{message_id}/handled")
    async def mark_handled(message_id: int, body: Handled, user: Staff) -> dict[str, Any]:
        """Mark a message handled (by the signed-in user), or not handled again."""
        if not await store.set_handled(message_id, body.handled, user.name):
            raise HTTPException(404, f"no message {message_id}")
        await users.audit(user.name, "message_handled", message_id=message_id,
                          handled=body.handled)
        message = await store.get_message(message_id)
        assert message is not None
        return message

    return router


def audit_router(auth: Auth, users: UserStore) -> APIRouter:
    router = APIRouter(tags=["audit"])
    Admin = Annotated[Caller, Depends(require(auth, "admin"))]

    @router.get("/audit")
    async def audit(_: Admin, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        items = await users.audit_log(limit, offset)
        return {"items": items, "limit": limit, "offset": offset}

    return router
