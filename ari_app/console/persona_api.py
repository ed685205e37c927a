"""The console's persona editor (admin only): `GET /api/personas`, `GET /api/persona/{name}`
and `PUT /api/persona/{name}`.

A save is checked before anything is written (422 names each bad field), refused when the
file changed since the editor loaded it (409), backs the old file up, and reaches the next
call: the running app reloads a persona whose file changed (mind/persona.py)."""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies local to the router's builder
import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, model_validator

from ari_app.console.auth import Auth, Caller, require
from ari_app.console.users import UserStore
from ari_app.mind.persona_file import (
    PersonaChanged,
    PersonaDoc,
    PersonaFiles,
    PersonaInvalid,
    PersonaMissing,
)


class PersonaSave(BaseModel):
    """The whole persona, as form data (`persona`) or as the file's text (`yaml`)."""

    persona: dict[str, Any] | None = None
    yaml: str | None = None
    version: str | None = None  # from the GET this edit started from

    @model_validator(mode="after")
    def _one_of(self) -> "PersonaSave":
        if (self.persona is None) == (self.yaml is None):
            raise ValueError("send exactly one of `persona` (the data) and `yaml` (the text)")
        return self


def _doc(doc: PersonaDoc) -> dict[str, Any]:
    return {"name": doc.name, "yaml": doc.text, "persona": doc.data, "version": doc.version}


def persona_router(auth: Auth, files: PersonaFiles, users: UserStore) -> APIRouter:
    router = APIRouter(tags=["persona"])
    Admin = Annotated[Caller, Depends(require(auth, "admin"))]
    lock = asyncio.Lock()  # one save at a time: the version check and the write go together

    @router.get("/personas")
    async def list_personas(_: Admin) -> dict[str, Any]:
        return {"items": await asyncio.to_thread(files.names)}

    @router.get("/persona/{name}")
    async def get_persona(name: str, _: Admin) -> dict[str, Any]:
        try:
            return _doc(await asyncio.to_thread(files.read, name))
        except PersonaMissing as exc:
            raise HTTPException(404, str(exc)) from None

    @router.put("/persona/{name}", responses={409: {}, 422: {}})
    async def put_persona(name: str, body: PersonaSave, user: Admin) -> dict[str, Any]:
        """Save the persona if it is valid; the old file is kept in `.backups/`."""
        async with lock:
            try:
                if body.yaml is not None:
                    doc = await asyncio.to_thread(files.save_text, name, body.yaml,
                                                  body.version)
                else:
                    assert body.persona is not None
                    doc = await asyncio.to_thread(files.save_data, name, body.persona,
                                                  body.version)
            except PersonaMissing as exc:
                raise HTTPException(404, str(exc)) from None
            except PersonaChanged as exc:
                raise HTTPException(409, str(exc)) from None
            except PersonaInvalid as exc:
                errors = [{"field": p.field, "message": p.message} for p in exc.problems]
                raise HTTPException(422, {"message": f"persona {name!r} not saved: {exc}",
                                          "errors": errors}) from None
            except OSError as exc:
                raise HTTPException(503, f"persona {name!r} not saved: "
                                         f"{exc.strerror or exc} ({exc.filename})") from None
        await users.audit(user.name, "persona_saved", persona=name, version=doc.version,
                          via="yaml" if body.yaml is not None else "form")
        return _doc(doc)

    return router
