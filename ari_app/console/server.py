"""The HTTP server inside `secretary run` (uvicorn on `console.listen`): `/metrics` for
Prometheus, and `/healthz`. It shares the app's event loop, so what it shows is live.

It is a side door: a port in use is logged and the phones are answered all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST

from ari_app.api.serve import listen_socket
from ari_app.console.settings import ConsoleConfig
from ari_app.errors import SecretaryError
from ari_app.metrics import Metrics

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


def console_app(metrics: Metrics) -> FastAPI:
    app = FastAPI(title="AI secretary console", docs_url=None, redoc_url=None)

    @app.get("/metrics", include_in_schema=False)
    def scrape() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


class ConsoleServer:
    def __init__(self, cfg: ConsoleConfig, metrics: Metrics) -> None:
        self.cfg = cfg
        self.metrics = metrics
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
        level = logging.getLogger().getEffectiveLevel()
        config = uvicorn.Config(console_app(self.metrics), log_level=level, log_config=None,
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
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
