"""`secretary chat`: talk to the secretary in text, one line per turn.

    secretary chat [--lang ru|en] [--persona NAME] [-c CONFIG] [--notify]

The secretary greets, then answers each line read from stdin (a terminal or a pipe) until
she says goodbye or stdin ends. It is the dialogue a caller gets, without the telephone:
the way to try a persona. With the config's `llm:` section the language models answer as on
calls, inside the rules (the rules answer when no model does); without it, the rules alone.
Messages she takes are shown, and sent to the staff with --notify (the config's `notify:`
section).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TextIO

from ari_app.config import PASSWORD_ENV, Config, load_config
from ari_app.errors import ConfigError, SecretaryError
from ari_app.llm.chain import FallbackChain
from ari_app.llm.factory import build_chain
from ari_app.mind.dialogue import Dialogue, frozen_clock
from ari_app.mind.llm_dialogue import make_mind
from ari_app.mind.persona import SUPPORTED_LANGUAGES, Persona, load_persona
from ari_app.mind.text_turn import text_turn
from ari_app.notify.message import StaffMessage, render_body

DEFAULT_CONFIG = Path("config/secretary.yaml")
DEFAULT_PERSONAS = Path("config/personas")

OnMessage = Callable[[StaffMessage], Awaitable[str]]  # what became of the message, in words


def _config(arg: str | None) -> Config | None:
    """The named config, else $SECRETARY_CONFIG or config/secretary.yaml if it exists."""
    named = arg or os.environ.get("SECRETARY_CONFIG")
    path = Path(named) if named else DEFAULT_CONFIG
    if not named and not path.exists():
        return None  # no config at all: the packaged personas, Russian
    # chat never talks to Asterisk: a config whose password lives elsewhere still loads
    return load_config(path, env={PASSWORD_ENV: "unused-by-chat", **os.environ})


def _persona(arg: str | None, cfg: Config | None) -> Persona:
    if arg is not None and (arg.endswith((".yaml", ".yml")) or "/" in arg):
        return load_persona(Path(arg))
    name = arg or (cfg.persona if cfg is not None else "default")
    directory = cfg.paths.personas_dir if cfg is not None else DEFAULT_PERSONAS
    path = directory / f"{name}.yaml"
    if not path.exists():
        have = ", ".join(sorted(p.stem for p in directory.glob("*.yaml"))) or "none"
        raise ConfigError(f"{path}: no such persona (in {directory}: {have})")
    return load_persona(path)


async def run_chat(
    dialogue: Dialogue,
    lines: Iterable[str],
    out: TextIO,
    *,
    prompt: str = "",
    on_message: OnMessage | None = None,
    llm: FallbackChain | None = None,
) -> int:
    """The conversation: greeting, then one reply per non-empty line, until goodbye. With
    `llm` the rules answer with the language models, as on calls (mind/llm_dialogue.py)."""
    speaker = dialogue.persona.text("secretary_name", dialogue.language)
    company = dialogue.persona.company.get(dialogue.language)
    mind = make_mind(dialogue, llm)

    def say(text: str) -> None:
        out.write(f"{speaker}: {text}\n")
        out.flush()

    say(mind.greeting())
    out.write(prompt)
    out.flush()
    for line in lines:
        text = line.strip()
        if not text:
            out.write(prompt)
            out.flush()
            continue
        reply = (await text_turn(mind, text)).reply
        say(reply.text)
        if reply.message is not None:
            staff = StaffMessage.from_message(
                reply.message, language=dialogue.language, company=company, call_id="chat"
            )
            outcome = await on_message(staff) if on_message else "not sent (no --notify)"
            body = "".join(f"    {row}\n" for row in render_body(staff).splitlines() if row)
            out.write(f"  [message for the staff, {outcome}]\n{body}")
        if reply.end_call:
            return 0
        out.write(prompt)
        out.flush()
    if prompt:
        out.write("\n")
    return 0


def _sender(cfg: Config | None) -> OnMessage:
    from ari_app.notify.factory import build_notifications

    notifications = build_notifications(cfg.notify if cfg is not None else None)
    if not notifications.channels:
        raise ConfigError("--notify: the config has no notify.smtp or notify.webhook")

    async def send(message: StaffMessage) -> str:
        results = await notifications.notify(message)
        return "; ".join(
            f"{channel}: {'sent' if error is None else 'FAILED: ' + error}"
            for channel, error in results.items()
        )

    return send


def chat_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="secretary chat", description="Talk to the secretary in text, one line per turn."
    )
    parser.add_argument("--lang", choices=SUPPORTED_LANGUAGES, help="default: the config's")
    parser.add_argument("--persona", help="a persona name in paths.personas_dir, or a YAML file")
    parser.add_argument("-c", "--config", help=f"YAML config (default {DEFAULT_CONFIG})")
    parser.add_argument(
        "--notify", action="store_true", help="send taken messages to the staff (notify:)"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        cfg = _config(args.config)
        persona = _persona(args.persona, cfg)
        language = args.lang or (cfg.default_language if cfg is not None else "ru")
        if language not in persona.languages:
            have = ", ".join(sorted(persona.languages))
            raise ConfigError(f"--lang {language}: the persona speaks only {have}")
        on_message = _sender(cfg) if args.notify else None
        # the language models as calls have them (a key missing is a ConfigError)
        llm = build_chain(cfg.llm, cfg.default_language) if cfg and cfg.llm else None
    except SecretaryError as exc:
        print(f"secretary chat: {exc}", file=sys.stderr)
        return exc.exit_code
    prompt = "> " if sys.stdin.isatty() else ""
    dialogue = Dialogue(persona, language, now=frozen_clock(cfg.frozen_time if cfg else None))

    async def chat() -> int:
        try:
            return await run_chat(dialogue, sys.stdin, sys.stdout, prompt=prompt,
                                  on_message=on_message, llm=llm)
        finally:
            if llm is not None:
                await llm.aclose()

    try:
        return asyncio.run(chat())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(chat_main())
