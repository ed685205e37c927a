"""`secretary records copy SOURCE TARGET [--node NAME]`: one call database copied into
another, such as a box's SQLite file into the PostgreSQL several boxes share
(`ari_app/storage/copy.py` says what is copied and what is kept). SOURCE and TARGET are each
an SQLite file or a postgresql:// URL (the password from PGPASSWORD, as for storage.url).
Safe to run again: only what the target lacks is added."""

from __future__ import annotations

import argparse
import asyncio
import sys

from ari_app.errors import SecretaryError
from ari_app.storage.copy import check_targets, copy_records
from ari_app.storage.database import Database


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="secretary records", description="the call database")
    sub = p.add_subparsers(dest="action", required=True)
    copy = sub.add_parser("copy", help="copy one call database into another (again: only "
                                       "what is new)")
    copy.add_argument("source", help="an SQLite file or a postgresql:// URL")
    copy.add_argument("target", help="an SQLite file or a postgresql:// URL")
    copy.add_argument("--node", help="the box that took the source's calls, for calls "
                                     "recorded before calls named their box")
    return p


async def run_copy(source: str, target: str, node: str | None) -> int:
    check_targets(source, target)
    src, dst = Database(source), Database(target)
    await src.open()
    try:
        await dst.open()
        try:
            report = await copy_records(src, dst, node=node)
        finally:
            await dst.close()
    finally:
        await src.close()
    print(f"{src.name} -> {dst.name}")
    for line in report.lines():
        print(f"  {line}")
    return 0


def records_main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(run_copy(args.source, args.target, args.node))
    except SecretaryError as exc:
        print(f"secretary records: {exc}", file=sys.stderr)
        return exc.exit_code
