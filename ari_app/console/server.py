"""The HTTP server inside `secretary run` (uvicorn on `console.listen`): `/metrics` for
Prometheus, `/healthz`, and the operator console's `/api` (docs/console.md) when it is given
the call store and the accounts. It shares the app's event loop, so what it shows is live.

It is a side door: a port in use is logged and the phones are answered all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST

from ari_app.api.serve import listen_socket
from ari_app.console.auth import Auth, auth_router
from ari_app.console.calls_api import audit_router, calls_router
from ari_app.console.chat_api import ChatSetup, chat_router
from ari_app.console.dashboard import dashboard_router
from ari_app.console.health_api import Checks, health_router
from ari_app.console.live import LiveBus
from ari_app.console.live_api import live_router
from ari_app.console.llm_settings import LlmSettings
from ari_app.console.persona_api import persona_router
from ari_app.console.sessions import LoginLimiter, Sessions
from ari_app.console.settings import ConsoleConfig
from ari_app.console.settings_api import settings_router
from ari_app.console.static import mount_ui
from ari_app.console.users import UserStore
from ari_app.console.users_api import users_router
from ari_app.console.voices_api import VoiceSetup, voices_router
from ari_app.errors import SecretaryError
from ari_app.metrics import Metrics
from ari_app.mind.persona_file import PersonaFiles
from ari_app.storage import CallStore

log = logging.getLogger(__name__)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn that leaves SIGINT/SIGTERM to the app (they drain the calls first)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.listening.set()


def console_app(
    metrics: Metrics,
    store: CallStore | None = None,
    users: UserStore | None = None,
    clock: Callable[[], float] = time.time,
    *,
    secure_cookie: bool = False,
    live: LiveBus | None = None,
    personas: PersonaFiles | None = None,
    health: Checks | None = None,
    settings: LlmSettings | None = None,
    voices: VoiceSetup | None = None,
    chat: ChatSetup | None = None,
) -> FastAPI:
    """`/metrics` and `/healthz`; with `users` also the session routes under `/api`, with
    `store` too the call history, with `live` the live calls, with `personas` the persona
    editor, with `health` the Lines and health checks, with `settings` the language
    models' settings, with `voices` the Voices page and with `chat` the Chat. Both stores
    are opened and closed by the caller."""
    app = FastAPI(title="AI secretary console", docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json")

    @app.get("/metrics", include_in_schema=False)
    def scrape() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if users is not None:
        auth = Auth(users, Sessions(clock), LoginLimiter(clock), secure_cookie=secure_cookie)
        api = APIRouter()
        api.include_router(auth_router(auth))
        api.include_router(audit_router(auth, users))
        api.include_router(users_router(auth, users))
        if store is not None:
            api.include_router(calls_router(auth, store, users))
            api.include_router(dashboard_router(auth, store, live, clock, metrics))
        if live is not None:
            api.include_router(live_router(auth, live))
        if personas is not None:
            api.include_router(persona_router(auth, personas, users))
        if health is not None:
            api.include_router(health_router(auth, health, clock))
        if settings is not None:
            api.include_router(settings_router(auth, settings, users))
        if voices is not None:
            api.include_router(voices_router(auth, users, voices))
        if chat is not None:
            api.include_router(chat_router(auth, chat))
        app.include_router(api, prefix="/api")
    mount_ui(app)
    return app


class ConsoleServer:
    def __init__(
        self,
        cfg: ConsoleConfig,
        metrics: Metrics,
        store: CallStore | None = None,
        users: UserStore | None = None,
        live: LiveBus | None = None,
        personas: PersonaFiles | None = None,
        health: Checks | None = None,
        settings: LlmSettings | None = None,
        voices: VoiceSetup | None = None,
        chat: ChatSetup | None = None,
    ) -> None:
        """`store` (opened by the app) and `users` (opened and closed here) add the
        console's `/api`, and `live` its live calls; without them only `/metrics` and
        `/healthz` are served."""
        self.cfg = cfg
        self.metrics = metrics
        self.store = store
        self.users = users
        self.live = live
        self.personas = personas
        self.health = health
        self.settings = settings
        self.voices = voices
        self.chat = chat
        self.url: str | None = None  # once listening
        self._server: _EmbeddedServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        address = self.cfg.address
        if address is None:
            return
        try:
            sock = listen_socket(*address, "console.listen")
        except SecretaryError as exc:
            log.error("console and /metrics not served: %s", exc)
            return
        host, port = sock.getsockname()[:2]
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        users = self.users
        if users is not None:
            try:
                await users.open()
            except SecretaryError as exc:
                log.error("console /api not served: %s", exc)
                users = None
        level = logging.getLogger().getEffectiveLevel()
        app = console_app(self.metrics, self.store, users, live=self.live,
                          personas=self.personas, health=self.health,
                          settings=self.settings, voices=self.voices, chat=self.chat)
        config = uvicorn.Config(app, log_level=level, log_config=None,
                                access_log=False, lifespan="off")
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(self._serve(self._server, sock), name="console")
        listening = asyncio.create_task(self._server.listening.wait())
        await asyncio.wait({listening, self._task}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        log.info("console and /metrics at %s", self.url)

    @staticmethod
    async def _serve(server: _EmbeddedServer, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except Exception:
            log.exception("the console server stopped")

    async def close(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.users is not None:
            await self.users.close()
