"""Who may use the console's `/api`: login, logout, `me`, and `require(role)`, the dependency
every other route hangs on (401 without a live session, 403 for a role that may not, 403 for a
state-changing request without the session's CSRF token in `X-CSRF-Token`)."""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies local to the router's builder
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel

from ari_app.console.sessions import LoginLimiter, Session, Sessions
from ari_app.console.users import ROLES, UserStore

COOKIE = "secretary_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Auth:
    users: UserStore
    sessions: Sessions
    limiter: LoginLimiter
    secure_cookie: bool = False  # Secure on the cookie even over plain http


@dataclass
class Caller:
    """The signed-in user of a request."""

    name: str
    role: str
    session: Session


class Login(BaseModel):
    name: str
    password: str


class UserOut(BaseModel):
    name: str
    role: str


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def require(auth: Auth, *roles: str) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency: the signed-in user if their role is one of `roles` (any role if none)."""
    allowed = set(roles or ROLES)

    async def dependency(request: Request) -> Caller:
        caller = await signed_in(auth, request.cookies.get(COOKIE))
        if caller is None:
            raise HTTPException(401, "not signed in")
        if request.method not in SAFE_METHODS and not caller.session.csrf_matches(
            request.headers.get(CSRF_HEADER)
        ):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header")
        if caller.role not in allowed:
            raise HTTPException(403, "your role may not do this")
        return caller

    return dependency


async def signed_in(auth: Auth, token: str | None) -> Caller | None:
    """The user of a live session's cookie, or None (no session, or the user is gone)."""
    session = auth.sessions.get(token)
    if session is None:
        return None
    user = await auth.users.get(session.user)
    if user is None:  # removed since signing in
        auth.sessions.end(session.token)
        return None
    return Caller(user["name"], user["role"], session)


def auth_router(auth: Auth) -> APIRouter:
    router = APIRouter(tags=["session"])
    signed_in = require(auth)

    @router.post("/login", response_model=LoginOut)
    async def login(body: Login, request: Request, response: Response) -> LoginOut:
        address = _address(request)
        keys = (f"name:{body.name}", f"addr:{address}")
        wait = auth.limiter.retry_after(*keys)
        if wait > 0:
            await auth.users.audit(body.name, "login_refused", address=address)
            raise HTTPException(429, "too many failed logins; try again later",
                                headers={"Retry-After": str(int(wait) + 1)})
        user = await auth.users.check_password(body.name, body.password)
        if user is None:
            auth.limiter.failed(*keys)
            await auth.users.audit(body.name, "login_failed", address=address)
            raise HTTPException(401, "wrong name or password")
        auth.limiter.succeeded(keys[0])  # the address keeps its count: one good account
        session = auth.sessions.create(user["name"])  # must not unlock guessing others
        # https: from X-Forwarded-Proto of a proxy on loopback (uvicorn's proxy headers)
        secure = auth.secure_cookie or request.url.scheme == "https"
        response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict", path="/",
                            secure=secure)
        await auth.users.audit(user["name"], "login", address=address)
        return LoginOut(user=UserOut(name=user["name"], role=user["role"]),
                        csrf_token=session.csrf)

    @router.post("/logout", status_code=204)
    async def logout(request: Request,
                     caller: Annotated[Caller, Depends(signed_in)]) -> Response:
        auth.sessions.end(caller.session.token)
        await auth.users.audit(caller.name, "logout", address=_address(request))
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    @router.get("/me", response_model=LoginOut)
    async def me(caller: Annotated[Caller, Depends(signed_in)]) -> LoginOut:
        return LoginOut(user=UserOut(name=caller.name, role=caller.role),
                        csrf_token=caller.session.csrf)

    return router
