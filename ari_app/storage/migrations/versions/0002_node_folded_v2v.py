"""Records for several boxes and servers: the node that took each call; each turn's text
case-folded for the word search and a reply's voice-to-voice time as columns (a server has
neither SQLite's functions nor its json_extract); call indexes break ties by call_id (a
server has no rowid).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BATCH = 500


def upgrade() -> None:
    op.add_column("calls", sa.Column("node", sa.Text))
    op.add_column("turns", sa.Column("folded", sa.Text))
    op.add_column("turns", sa.Column("v2v_ms", sa.Double))
    op.drop_index("calls_started_at", table_name="calls")
    op.drop_index("calls_line_started_at", table_name="calls")
    op.create_index("calls_started_at", "calls", ["started_at", "call_id"])
    op.create_index("calls_line_started_at", "calls", ["line", "started_at", "call_id"])
    _fill_turns()


def _fill_turns() -> None:
    """Fill the new turn columns from each turn's text and timings, a batch at a time."""
    bind = op.get_bind()
    turns = sa.table("turns", sa.column("id", sa.Integer), sa.column("text", sa.Text),
                     sa.column("timings", sa.Text), sa.column("folded", sa.Text),
                     sa.column("v2v_ms", sa.Double))
    last = -1
    while True:
        rows = bind.execute(
            sa.select(turns.c.id, turns.c.text, turns.c.timings)
            .where(turns.c.id > last).order_by(turns.c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            bind.execute(turns.update().where(turns.c.id == row.id).values(
                folded=(row.text or "").casefold(), v2v_ms=_v2v(row.timings)))
        last = rows[-1].id


def _v2v(timings: str | None) -> float | None:
    try:
        value = json.loads(timings or "{}").get("v2v_ms")
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) else None


def downgrade() -> None:
    op.drop_index("calls_started_at", table_name="calls")
    op.drop_index("calls_line_started_at", table_name="calls")
    op.create_index("calls_started_at", "calls", ["started_at"])
    op.create_index("calls_line_started_at", "calls", ["line", "started_at"])
    op.drop_column("turns", "v2v_ms")
    op.drop_column("turns", "folded")
    op.drop_column("calls", "node")
