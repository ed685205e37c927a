"""The console's Lines and health page (admin): `GET /api/health` runs what `secretary
doctor` checks (ARI, the PBX over AMI: channel drivers, trunks' registrations, the GSM
modem's signal and SIM, the dialplan and its fallback; the models; the running app's own
metrics; the records spool) when asked, and says each result in plain words with its fix."""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies local to the router's builder
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from ari_app.console.auth import Auth, Caller, require
from ari_app.doctor.check import Check
from ari_app.doctor.run import summary

HEALTH_TIMEOUT_S = 30.0  # each check has its own shorter timeouts; this bounds them all

Checks = Callable[[], Awaitable[list[Check]]]


def health_router(auth: Auth, checks: Checks, clock: Callable[[], float] = time.time) -> APIRouter:
    router = APIRouter(tags=["health"])
    Admin = Annotated[Caller, Depends(require(auth, "admin"))]
    lock = asyncio.Lock()  # one run at a time: a second click waits for the first's answer

    @router.get("/health")
    async def health(_: Admin) -> dict[str, Any]:
        """Runs the checks now (a few seconds): `checks` in order, each {name, status:
        ok|warn|fail, detail, fix}."""
        async with lock:
            try:
                found = await asyncio.wait_for(checks(), HEALTH_TIMEOUT_S)
            except TimeoutError:
                found = [Check("health checks", "fail",
                               f"not finished within {HEALTH_TIMEOUT_S:.0f} s",
                               "run `secretary doctor` on the server to see which hangs")]
        return {
            "checked_at": clock(),
            "ok": not any(c.status == "fail" for c in found),
            "summary": summary(found),
            "checks": [{"name": c.name, "status": c.status, "detail": c.detail, "fix": c.fix}
                       for c in found],
        }

    return router
