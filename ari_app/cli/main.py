"""`secretary`: run the ARI application, check the installation, read call records.

Exit codes: 0 ok, 1 failure, 2 bad config, 3 ARI refused credentials,
4 Asterisk unreachable or app already taken, 5 a model or engine missing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from ari_app.errors import SecretaryError

DEFAULT_CONFIG = "config/secretary.yaml"
log = logging.getLogger("ari_app")


def _config_path(arg: str | None) -> Path:
    return Path(arg or os.environ.get("SECRETARY_CONFIG") or DEFAULT_CONFIG)


SWITCH_INTERVAL_S = 0.001


async def _run(config_path: Path) -> int:
    from ari_app.app import SecretaryApp
    from ari_app.config import load_config
    from ari_app.engines import build_engines
    from ari_app.storage import CallStore
    from ari_app.workers import start_workers

    cfg = load_config(config_path)
    # RTP leaves from its own thread (media.paced_sender); after its sleep it needs the GIL,
    # which another thread may hold for up to the switch interval (5 ms by default)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    await start_workers()
    engines = build_engines(cfg)
    log.info("loading speech engines")
    await engines.load()
    store = CallStore(cfg.storage.target, node=cfg.storage.node)
    app = SecretaryApp(cfg, engines, store, config_path)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, app.stop)
    try:
        await app.start()
        print(f"secretary: ready, ARI app '{cfg.ari.app}' at {cfg.ari.url}", flush=True)
        await app.run()
    finally:
        await app.close()
    return 0


async def _doctor(config_path: Path) -> int:
    from ari_app.doctor.run import run_doctor

    return await run_doctor(config_path)


async def _calls(config_path: Path, limit: int, call_id: str | None) -> int:
    from ari_app.cli.calls import format_call
    from ari_app.config import load_config
    from ari_app.storage import CallStore

    cfg = load_config(config_path)
    store = CallStore(cfg.storage.target, node=cfg.storage.node)
    await store.open()
    try:
        if call_id:
            call = await store.get_call(call_id)
            if call is None:
                print(f"no call {call_id}", file=sys.stderr)
                return 1
            print(format_call(call))
            return 0
        for summary in await store.list_calls(limit):
            full = await store.get_call(summary["call_id"])
            print(format_call(full if full is not None else summary))
            print()
    finally:
        await store.close()
    return 0


async def _messages(config_path: Path, limit: int) -> int:
    from ari_app.cli.calls import format_message
    from ari_app.config import load_config
    from ari_app.storage import CallStore

    cfg = load_config(config_path)
    async with CallStore(cfg.storage.target, node=cfg.storage.node) as store:
        rows = await store.messages(limit)
    for row in rows:
        print(format_message(row))
    if not rows:
        print("no messages")
    return 0


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    from ari_app.cli.env_file import load_env_file

    try:
        load_env_file()
    except SecretaryError as exc:
        print(f"secretary: {exc}", file=sys.stderr)
        return exc.exit_code
    from ari_app.telemetry import quiet_engines

    quiet_engines()  # before any engine loads; the .env file's say stands
    if args_list[:1] == ["voice"]:  # `secretary voice add|list ...`: the voice manager
        from ari_app.tts.voices import main as voice_main

        return voice_main(args_list[1:])
    if args_list[:1] == ["chat"]:  # `secretary chat ...`: talk to the secretary in text
        from ari_app.cli.chat import chat_main

        return chat_main(args_list[1:])
    if args_list[:1] == ["user"]:  # `secretary user add|list|remove ...`: console accounts
        from ari_app.cli.users import user_main

        return user_main(args_list[1:])
    if args_list[:1] == ["records"]:  # `secretary records copy SOURCE TARGET`
        from ari_app.cli.records import records_main

        return records_main(args_list[1:])
    parser = argparse.ArgumentParser(prog="secretary", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default=os.environ.get("SECRETARY_LOG_LEVEL", "INFO"))
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("run", "answer calls"),
        ("doctor", "check Asterisk, ARI credentials and models"),
        ("calls", "print call records"),
        ("messages", "print the messages callers left (newest first)"),
        ("api", "serve the HTTP API (api.host:api.port, 127.0.0.1:8000 by default)"),
        ("chat", "talk to the secretary in text (--lang ru|en, --persona NAME)"),
        ("voice", "manage cloned-voice reference clips (add NAME FILE..., list)"),
        ("user", "manage operator console accounts (add NAME --role ROLE, list, remove NAME)"),
        ("records", "copy one call database into another (copy SOURCE TARGET [--node NAME])"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("-c", "--config", help=f"YAML config (default {DEFAULT_CONFIG})")
        if name == "calls":
            p.add_argument("call_id", nargs="?")
            p.add_argument("-n", "--limit", type=int, default=10)
        if name == "messages":
            p.add_argument("-n", "--limit", type=int, default=20)
        if name == "api":
            p.add_argument("--host", help="listen address (default: api.host)")
            p.add_argument("--port", type=int, help="port (default: api.port)")
    args = parser.parse_args(args_list)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    path = _config_path(args.config)
    try:
        if args.command == "run":
            from ari_app.memory import cap_arenas

            # before the app's threads allocate: each would keep its own glibc arena
            log.info("malloc arenas: %s", cap_arenas() or "as the C library or "
                     "MALLOC_ARENA_MAX sets them")
            return asyncio.run(_run(path))
        if args.command == "doctor":
            return asyncio.run(_doctor(path))
        if args.command == "api":
            from ari_app.api.serve import serve_api

            return asyncio.run(serve_api(path, host=args.host, port=args.port))
        if args.command == "messages":
            return asyncio.run(_messages(path, args.limit))
        return asyncio.run(_calls(path, args.limit, args.call_id))
    except SecretaryError as exc:
        print(f"secretary: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
