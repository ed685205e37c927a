"""`secretary user add NAME --role admin|receptionist`, `user list`, `user remove NAME`:
the operator console's accounts, in the call database (storage.database, or storage.url).

The password is asked twice on a terminal (getpass), or read as the first line of stdin when
stdin is not a terminal (`echo "$PW" | secretary user add anna --role admin`)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import TextIO

from ari_app.console.users import ROLES, UserError, UserStore
from ari_app.errors import SecretaryError


def read_password(stdin: TextIO) -> str:
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if first and getpass.getpass("again: ") != first:
        raise UserError("the two passwords differ")
    return first


def parser() -> argparse.ArgumentParser:
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("-c", "--config", default=argparse.SUPPRESS,
                        help="YAML config (default config/secretary.yaml)")
    p = argparse.ArgumentParser(prog="secretary user", description="console accounts",
                                parents=[config])
    sub = p.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", parents=[config],
                         help="add an account (password from the terminal or stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, help=" or ".join(ROLES))
    sub.add_parser("list", parents=[config], help="list the accounts")
    remove = sub.add_parser("remove", parents=[config], help="remove an account")
    remove.add_argument("name")
    return p


async def run_user(args: argparse.Namespace, database: Path | str, stdin: TextIO) -> int:
    if args.action == "add" and args.role not in ROLES:  # before asking for a password
        raise UserError(f"unknown role {args.role!r}; expected one of: {', '.join(ROLES)}")
    async with UserStore(database) as users:
        if args.action == "add":
            if await users.get(args.name) is not None:
                raise UserError(f"a user named {args.name!r} already exists")
            await users.add(args.name, args.role, read_password(stdin))
            await users.audit(None, "user_add", name=args.name, role=args.role, via="cli")
            print(f"added {args.name} ({args.role})")
        elif args.action == "remove":
            if not await users.remove(args.name):
                raise UserError(f"no user named {args.name!r}")
            await users.audit(None, "user_remove", name=args.name, via="cli")
            print(f"removed {args.name}")
        else:
            rows = await users.list_users()
            for row in rows:
                print(f"{row['name']}\t{row['role']}")
            if not rows:
                print("no users; add the first admin with: secretary user add NAME --role admin")
    return 0


def user_main(argv: list[str], stdin: TextIO | None = None) -> int:
    from ari_app.cli.main import _config_path
    from ari_app.config import load_config

    args = parser().parse_args(argv)
    try:
        cfg = load_config(_config_path(getattr(args, "config", None)))
        return asyncio.run(run_user(args, cfg.storage.target, stdin or sys.stdin))
    except SecretaryError as exc:
        print(f"secretary user: {exc}", file=sys.stderr)
        return exc.exit_code
