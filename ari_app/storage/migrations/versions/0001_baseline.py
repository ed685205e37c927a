"""The schema as it stood before Alembic (SQLite user_version 3): calls, turns, messages,
the console's accounts and audit log.

A database made by an older program (user_version 1 to 3, no alembic_version) arrives here
too: what it lacks is added and what it has is kept, so it is migrated in place.

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# columns added by the program's own migrations before Alembic (schema versions 2 and 3)
_ADDED_LATER = {
    "calls": ("transferred_to", "transferred_by"),
    "messages": ("handled_at", "handled_by"),
}


Index = tuple[str, list[str]]  # name, columns


def _tables() -> dict[str, tuple[list[SchemaItem], list[Index], dict[str, Any]]]:
    return {
        "calls": ([
            sa.Column("call_id", sa.Text, primary_key=True),
            sa.Column("channel_id", sa.Text),
            sa.Column("line", sa.Text),
            sa.Column("endpoint", sa.Text),
            sa.Column("caller_id", sa.Text),
            sa.Column("language", sa.Text),
            sa.Column("started_at", sa.Double, nullable=False),
            sa.Column("ended_at", sa.Double),
            sa.Column("ended_by", sa.Text),
            sa.Column("error", sa.Text),
            sa.Column("caller_wav", sa.Text),
            sa.Column("secretary_wav", sa.Text),
            sa.Column("transferred_to", sa.Text),
            sa.Column("transferred_by", sa.Text),
        ], [("calls_started_at", ["started_at"]),
            ("calls_line_started_at", ["line", "started_at"])], {}),
        "turns": ([
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("call_id", sa.Text,
                      sa.ForeignKey("calls.call_id", ondelete="CASCADE"), nullable=False),
            sa.Column("idx", sa.Integer, nullable=False),
            sa.Column("who", sa.Text, sa.CheckConstraint("who IN ('caller', 'secretary')"),
                      nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("started_at", sa.Double),
            sa.Column("ended_at", sa.Double),
            sa.Column("timings", sa.Text, nullable=False, server_default="{}"),
            sa.UniqueConstraint("call_id", "idx"),
        ], [], {"sqlite_autoincrement": True}),
        "messages": ([
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("call_id", sa.Text, sa.ForeignKey("calls.call_id", ondelete="SET NULL")),
            sa.Column("created_at", sa.Double, nullable=False),
            sa.Column("language", sa.Text),
            sa.Column("name", sa.Text),
            sa.Column("callback_number", sa.Text),
            sa.Column("reason", sa.Text),
            sa.Column("urgency", sa.Text, nullable=False, server_default="normal"),
            sa.Column("caller_id", sa.Text),
            sa.Column("notified", sa.Text, nullable=False, server_default="{}"),
            sa.Column("handled_at", sa.Double),
            sa.Column("handled_by", sa.Text),
        ], [("messages_created_at", ["created_at"])], {"sqlite_autoincrement": True}),
        "console_users": ([
            sa.Column("name", sa.Text, primary_key=True),
            sa.Column("role", sa.Text,
                      sa.CheckConstraint("role IN ('admin', 'receptionist')"), nullable=False),
            sa.Column("password_hash", sa.Text, nullable=False),
            sa.Column("created_at", sa.Double, nullable=False),
        ], [], {}),
        "console_audit": ([
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("at", sa.Double, nullable=False),
            sa.Column("who", sa.Text),
            sa.Column("what", sa.Text, nullable=False),
            sa.Column("details", sa.Text, nullable=False, server_default="{}"),
        ], [("console_audit_at", ["at"])], {"sqlite_autoincrement": True}),
    }  # fmt: skip


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    present = set(inspector.get_table_names())
    for name, (columns, indexes, options) in _tables().items():
        if name not in present:
            op.create_table(name, *columns, **options)
            for index, on in indexes:
                op.create_index(index, name, on)
            continue
        have = {c["name"] for c in inspector.get_columns(name)}
        for column in columns:
            if (isinstance(column, sa.Column) and column.name not in have
                    and column.name in _ADDED_LATER.get(name, ())):
                op.add_column(name, column)
        have_index = {i["name"] for i in inspector.get_indexes(name)}
        for index, on in indexes:
            if index not in have_index:
                op.create_index(index, name, on)


def downgrade() -> None:
    for name in reversed(list(_tables())):
        op.drop_table(name)
