"""Every route of the whole console (all its parts configured), as its OpenAPI document lists
them: 401 without a session, and for a receptionist 403 on every route that is not one of
hers. A route added later is admin-only here unless it is put on her list below."""

from __future__ import annotations

import re
from pathlib import Path

from console_fixtures import console, login
from test_console_chat_api import personas_in, setup
from test_console_llm_settings import ENV, config_file
from test_console_voices_api import setup_for

from ari_app.console.auth import CSRF_HEADER
from ari_app.console.llm_settings import LlmSettings
from ari_app.storage import CallStore

PUBLIC = {("POST", "/api/login")}
# what a receptionist may use (docs/console.md, "Accounts and roles")
RECEPTIONIST = re.compile(
    r"^(/api/me|/api/logout|/api/calls(/.*)?|/api/messages(/.*)?|/api/live(/.*)?"
    r"|/api/dashboard|/api/chat)$")


def routes(app: object) -> list[tuple[str, str, str]]:
    """(method, path with its parameters filled in, path as documented) of every /api route."""
    doc = app.openapi()  # type: ignore[attr-defined]
    out = []
    for path, methods in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method in methods:
            if (method.upper(), path) not in PUBLIC:
                out.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path), path))
    return out


async def test_every_route_wants_a_session_and_admin_routes_refuse_a_receptionist(
    tmp_path: Path,
) -> None:
    voices, _, _ = setup_for(tmp_path)
    settings = LlmSettings(config_file(tmp_path), env=ENV)
    async with CallStore(tmp_path / "chat.sqlite3") as store, \
            console(tmp_path, settings=settings, voices=voices,
                    chat=setup(personas_in(tmp_path), store)) as c:
        listed = routes(c.app)
        documented = {path for _, _, path in listed}
        # every part is there: the test covers the whole console
        for part in ("/api/voices", "/api/chat", "/api/settings/llm", "/api/persona/{name}",
                     "/api/health", "/api/users", "/api/dashboard", "/api/audit"):
            assert part in documented, part
        async with c.client() as anonymous:
            for method, path, _ in listed:
                answer = await anonymous.request(method, path, json={})
                assert answer.status_code == 401, (method, path, answer.status_code)
        async with c.client() as rita:
            headers = {CSRF_HEADER: await login(rita, "rita")}
            for method, path, documented_path in listed:
                if (method, path) == ("POST", "/api/logout"):
                    continue  # it works, and would end the session the loop uses
                answer = await rita.request(method, path, json={}, headers=headers)
                if RECEPTIONIST.match(documented_path):
                    assert answer.status_code not in (401, 403), (method, path, answer.text)
                else:
                    assert answer.status_code == 403, (method, path, answer.status_code)
