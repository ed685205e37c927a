"""The console's accounts (admin): `GET /api/users`, `POST /api/users`, `PATCH` and
`DELETE /api/users/{name}`. Every change is in the audit log; the last admin cannot be
removed or demoted (nobody could then manage the console), nor can an admin remove
themselves. A removed user's sessions end at their next request (auth.signed_in)."""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies local to the router's builder
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, Field

from ari_app.console.auth import Auth, Caller, require
from ari_app.console.users import UserError, UserStore

Role = Literal["admin", "receptionist"]


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[^\s/]+$")
    role: Role
    password: str = Field(min_length=8, max_length=256)


class UserChange(BaseModel):
    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)


def users_router(auth: Auth, users: UserStore) -> APIRouter:
    router = APIRouter(tags=["users"])
    Admin = Annotated[Caller, Depends(require(auth, "admin"))]

    async def admins() -> int:
        return sum(u["role"] == "admin" for u in await users.list_users())

    @router.get("/users")
    async def list_users(_: Admin) -> dict[str, Any]:
        return {"items": await users.list_users()}

    @router.post("/users", status_code=201)
    async def add_user(body: NewUser, admin: Admin) -> dict[str, Any]:
        if await users.get(body.name) is not None:
            raise HTTPException(409, f"a user named {body.name!r} already exists")
        try:
            await users.add(body.name, body.role, body.password)
        except UserError as exc:
            raise HTTPException(422, str(exc)) from None
        await users.audit(admin.name, "user_add", name=body.name, role=body.role, via="console")
        user = await users.get(body.name)
        assert user is not None
        return user

    @router.patch("/users/{name}")
    async def change_user(name: str, body: UserChange, admin: Admin) -> dict[str, Any]:
        user = await users.get(name)
        if user is None:
            raise HTTPException(404, f"no user {name!r}")
        if body.role == "receptionist" and user["role"] == "admin" and await admins() <= 1:
            raise HTTPException(409, f"{name!r} is the last admin: make another admin first")
        await users.update(name, role=body.role, password=body.password)
        changed = [k for k in ("role", "password") if getattr(body, k) is not None]
        await users.audit(admin.name, "user_change", name=name, changed=changed,
                          role=body.role, via="console")  # never the password itself
        updated = await users.get(name)
        assert updated is not None
        return updated

    @router.delete("/users/{name}", status_code=204)
    async def remove_user(name: str, admin: Admin) -> Response:
        user = await users.get(name)
        if user is None:
            raise HTTPException(404, f"no user {name!r}")
        if name == admin.name:
            raise HTTPException(409, "you cannot remove yourself; another admin can")
        if user["role"] == "admin" and await admins() <= 1:
            raise HTTPException(409, f"{name!r} is the last admin")
        await users.remove(name)
        await users.audit(admin.name, "user_remove", name=name, via="console")
        return Response(status_code=204)

    return router
