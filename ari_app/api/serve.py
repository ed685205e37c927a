"""`secretary api`: the HTTP API served by uvicorn (127.0.0.1:8000 unless `api:` says else)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from ari_app.api.app import create_app
from ari_app.config import Config, load_config
from ari_app.engines import build_engines
from ari_app.errors import ConfigError, SecretaryError
from ari_app.llm.factory import build_chain
from ari_app.mind.persona import Persona, load_persona
from ari_app.notify.factory import build_notifications

log = logging.getLogger(__name__)

READY_MARK = "secretary: API ready at"


def load_personas(cfg: Config) -> dict[str, Persona]:
    """Every persona in paths.personas_dir. The configured ones (`persona`, the lines') must
    load; a broken extra file is skipped with a warning."""
    directory = cfg.paths.personas_dir
    needed = {cfg.persona} | {line.persona for line in cfg.lines.values() if line.persona}
    personas = {name: load_persona(directory / f"{name}.yaml") for name in sorted(needed)}
    for path in sorted(directory.glob("*.yaml")):
        if path.stem in personas:
            continue
        try:
            personas[path.stem] = load_persona(path)
        except ConfigError as exc:
            log.warning("persona %s skipped: %s", path.stem, exc)
    return personas


class _Server(uvicorn.Server):
    """uvicorn, stopped by SIGINT/SIGTERM with exit status 0 (uvicorn's own handling
    re-raises the signal after shutdown), announcing itself once it accepts connections."""

    def __init__(self, config: uvicorn.Config, ready_line: str) -> None:
        super().__init__(config)
        self._ready_line = ready_line

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _stop(self) -> None:
        self.force_exit = self.should_exit  # a second signal: do not wait for open requests
        self.should_exit = True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(self._ready_line, flush=True)


def listen_socket(host: str, port: int, setting: str) -> socket.socket:
    """A listening socket, or SecretaryError naming the `setting` to change."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        why = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise SecretaryError(f"cannot listen on {host}:{port}: {why} ({setting})") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve_api(config_path: Path, *, host: str | None = None, port: int | None = None) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit code (errors raise SecretaryError)."""
    cfg = load_config(config_path)
    settings = cfg.api
    personas = load_personas(cfg)
    notifications = build_notifications(cfg.notify)
    engines = build_engines(cfg)
    bind_host = host or settings.host
    sock = listen_socket(bind_host, settings.port if port is None else port,
                         "api.host, api.port")
    try:  # the language models as calls have them; the app closes them when it stops
        llm = build_chain(cfg.llm, cfg.default_language) if cfg.llm else None
    except BaseException:
        sock.close()
        raise
    app = create_app(
        cfg, engines, personas, settings=settings, notifications=notifications, llm=llm
    )
    channels = ", ".join(notifications.channels) or "none (messages are only logged)"
    models = llm.name if llm is not None else "none (the rules answer)"
    ready = (
        f"{READY_MARK} http://{bind_host}:{sock.getsockname()[1]} "
        f"(notify: {channels}; llm: {models})"
    )
    level = logging.getLogger().getEffectiveLevel()
    server = _Server(uvicorn.Config(app, log_level=level, log_config=None), ready)
    try:
        await server.serve(sockets=[sock])
    finally:
        sock.close()
    return 0 if server.started else 1


def main(argv: list[str] | None = None) -> int:
    """`python -m ari_app.api.serve -c CONFIG [--host H] [--port P]` (what `secretary api` runs)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="secretary api", description="serve the HTTP API")
    parser.add_argument("-c", "--config", default="config/secretary.yaml")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from ari_app.telemetry import quiet_engines

    quiet_engines()  # as `secretary` does, before any engine loads
    try:
        return asyncio.run(serve_api(Path(args.config), host=args.host, port=args.port))
    except SecretaryError as exc:
        print(f"secretary: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
