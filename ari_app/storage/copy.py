"""Copying one call database into another: a box's own SQLite file into the PostgreSQL that
several boxes share (docs/deploy.md), or any database into any other.

Both are brought to this program's schema first (the source is migrated in place, as at a
start). What the target already holds is kept and not copied twice, so a copy can be run
again (after an interruption, or for a box that went on taking calls) and adds only what is
new: a call by its call_id, with its turns and messages; a console account by its name (the
target's own wins); a message left outside a call and an audit entry by their contents. Rows
get the target's own ids, so several boxes' files can go into one database. A call recorded
before calls named their box gets `node` if given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ari_app.storage.database import Database, StorageError, database_url
from ari_app.storage.tables import calls, console_audit, console_users, messages, turns

BATCH = 500  # calls per transaction on the target
# what tells a copied message (left outside a call) or audit entry from a new one
_MESSAGE_KEY = ("created_at", "caller_id", "name", "callback_number", "reason")
_AUDIT_KEY = ("at", "who", "what", "details")


@dataclass
class CopyReport:
    """Rows copied, and rows the target already had, by table."""

    copied: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, copied: int, kept: int = 0) -> None:
        self.copied[table] = self.copied.get(table, 0) + copied
        self.kept[table] = self.kept.get(table, 0) + kept

    def lines(self) -> list[str]:
        return [f"{name}: {self.copied.get(name, 0)} copied, {self.kept.get(name, 0)} already "
                "there" for name in ("calls", "turns", "messages", "console_users",
                                     "console_audit")]


def check_targets(source: Path | str, target: Path | str) -> None:
    """A source file that does not exist would be made empty, and a copy onto itself would
    copy nothing: both refused before anything is opened."""
    src, dst = database_url(source), database_url(target)
    if src.get_backend_name() == "sqlite" and not Path(src.database or "").is_file():
        raise StorageError(f"{src.database}: no such call database file")
    if src.render_as_string(hide_password=True) == dst.render_as_string(hide_password=True):
        raise StorageError(f"{src.render_as_string(hide_password=True)}: the source and the "
                           "target are the same database")


async def copy_records(source: Database, target: Database, node: str | None = None,
                       batch: int = BATCH) -> CopyReport:
    """Everything in `source` that `target` lacks, copied into it (both open)."""
    report = CopyReport()
    last = ""
    while True:
        async with source.reading("read the calls to copy") as src:
            rows = [dict(r) for r in (await src.execute(
                select(calls).where(calls.c.call_id > last)
                .order_by(calls.c.call_id).limit(batch))).mappings()]
            if not rows:
                break
            last = rows[-1]["call_id"]
            ids = [r["call_id"] for r in rows]
            call_turns = await _rows(src, turns, turns.c.call_id.in_(ids), turns.c.id)
            call_messages = await _rows(src, messages, messages.c.call_id.in_(ids),
                                        messages.c.id)
        async with target.transaction("copy calls") as dst:
            there = set((await dst.execute(
                select(calls.c.call_id).where(calls.c.call_id.in_(ids)))).scalars())
            new = [{**r, "node": r["node"] or node} for r in rows if r["call_id"] not in there]
            fresh = {r["call_id"] for r in new}
            new_turns = [_without_id(t) for t in call_turns if t["call_id"] in fresh]
            new_messages = [_without_id(m) for m in call_messages if m["call_id"] in fresh]
            for table, values in ((calls, new), (turns, new_turns), (messages, new_messages)):
                if values:
                    await dst.execute(insert(table), values)
        report.add("calls", len(new), len(rows) - len(new))
        report.add("turns", len(new_turns), len(call_turns) - len(new_turns))
        report.add("messages", len(new_messages), len(call_messages) - len(new_messages))
    await _copy_by_key(source, target, messages, _MESSAGE_KEY, report,
                       messages.c.call_id.is_(None))
    await _copy_by_key(source, target, console_users, ("name",), report)
    await _copy_by_key(source, target, console_audit, _AUDIT_KEY, report)
    return report


async def _rows(conn: AsyncConnection, table: Table, where: Any,
                order: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in (await conn.execute(
        select(table).where(where).order_by(order))).mappings()]


def _without_id(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "id"}


async def _copy_by_key(source: Database, target: Database, table: Table, key: Sequence[str],
                       report: CopyReport, *where: Any) -> None:
    """The rows of `table` (matching `where`) whose `key` columns the target has no row
    with; these tables are small (accounts, the audit log, messages outside calls)."""
    order = table.c.id if "id" in table.c else table.c[key[0]]
    async with source.reading(f"read {table.name}") as src:
        rows = [dict(r) for r in (await src.execute(
            select(table).where(*where).order_by(order))).mappings()]
    columns = [table.c[k] for k in key]
    async with target.transaction(f"copy {table.name}") as dst:
        there = {tuple(r) for r in (await dst.execute(select(*columns).where(*where)))}
        new = []
        for row in rows:
            mark = tuple(row[k] for k in key)
            if mark not in there:
                there.add(mark)
                new.append(_without_id(row))
        if new:
            await dst.execute(insert(table), new)
    report.add(table.name, len(new), len(rows) - len(new))


__all__ = ["BATCH", "CopyReport", "check_targets", "copy_records"]
