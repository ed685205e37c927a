"""The console's Settings (admin): the language-model providers in order, their keys
(written, never read back) and a test of each. See llm_settings.py.

`GET /api/settings/llm`, `PUT /api/settings/llm`, `PUT /api/settings/secrets/{name}`,
`POST /api/settings/llm/{index}/test`."""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies local to the router's builder
import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, Field

from ari_app.console.auth import Auth, Caller, require
from ari_app.console.llm_settings import LlmSettings, SettingsChanged, SettingsInvalid
from ari_app.console.users import UserStore
from ari_app.errors import ConfigError


class ProvidersSave(BaseModel):
    providers: list[dict[str, Any]] = Field(min_length=1)
    filler_after_s: float | None = None
    version: str | None = None


class SecretSave(BaseModel):
    value: str = Field(min_length=1, max_length=4096)


def _invalid(exc: SettingsInvalid) -> HTTPException:
    errors = [{"field": p.field, "message": p.message} for p in exc.problems]
    return HTTPException(422, {"message": f"not saved: {exc}", "errors": errors})


def settings_router(auth: Auth, settings: LlmSettings, users: UserStore) -> APIRouter:
    router = APIRouter(tags=["settings"])
    Admin = Annotated[Caller, Depends(require(auth, "admin"))]
    lock = asyncio.Lock()

    @router.get("/settings/llm")
    async def get_llm(_: Admin) -> dict[str, Any]:
        """The providers as configured, each with `key_set` (never the key)."""
        try:
            return await asyncio.to_thread(settings.read)
        except ConfigError as exc:
            raise HTTPException(503, str(exc)) from None

    @router.put("/settings/llm", responses={409: {}, 422: {}})
    async def put_llm(body: ProvidersSave, admin: Admin) -> dict[str, Any]:
        """Save the providers (in this order); used from the next start of the app."""
        async with lock:
            try:
                saved = await asyncio.to_thread(settings.save, body.providers, body.version,
                                                body.filler_after_s)
            except SettingsChanged as exc:
                raise HTTPException(409, str(exc)) from None
            except SettingsInvalid as exc:
                raise _invalid(exc) from None
        await users.audit(admin.name, "settings_saved", section="llm",
                          providers=[p.get("label") or p.get("name") or p.get("kind")
                                     for p in saved["providers"]])
        return saved

    @router.put("/settings/secrets/{name}", status_code=204, responses={422: {}})
    async def put_secret(name: str, body: SecretSave, admin: Admin) -> Response:
        """Store a key in llm.secrets_file. It is never sent back."""
        async with lock:
            try:
                await asyncio.to_thread(settings.set_secret, name, body.value)
            except SettingsInvalid as exc:
                raise _invalid(exc) from None
            except ConfigError as exc:
                raise HTTPException(422, str(exc)) from None
        await users.audit(admin.name, "secret_set", name=name)  # not the value
        return Response(status_code=204)

    @router.post("/settings/llm/{index}/test")
    async def test_provider(index: int, _: Admin) -> dict[str, Any]:
        """One short request to provider `index`: {ok, provider, first_token_ms, total_ms,
        reply, error}."""
        try:
            result = await settings.test(index)
        except SettingsInvalid as exc:
            raise _invalid(exc) from None
        return asdict(result)

    return router
