"""The tables, as this program writes them (the migrations in `migrations/versions` bring
an older database here). Times are unix timestamps in seconds; JSON columns hold text."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    true,
)

metadata = MetaData()

calls = Table(
    "calls", metadata,
    Column("call_id", Text, primary_key=True),
    Column("channel_id", Text),
    Column("line", Text),
    Column("endpoint", Text),
    Column("caller_id", Text),
    Column("language", Text),
    Column("started_at", Double, nullable=False),
    Column("ended_at", Double),
    Column("ended_by", Text),
    Column("error", Text),
    Column("caller_wav", Text),
    Column("secretary_wav", Text),
    Column("transferred_to", Text),
    Column("transferred_by", Text),
    Column("node", Text),  # the secretary (box) that took the call: storage.node
    # newest first, ties by call_id, straight from an index
    Index("calls_started_at", "started_at", "call_id"),
    Index("calls_line_started_at", "line", "started_at", "call_id"),
)  # fmt: skip

turns = Table(
    "turns", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", Text, ForeignKey("calls.call_id", ondelete="CASCADE"), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("who", Text, CheckConstraint("who IN ('caller', 'secretary')"), nullable=False),
    Column("text", Text, nullable=False),
    Column("started_at", Double),
    Column("ended_at", Double),
    Column("timings", Text, nullable=False, server_default="{}"),
    # the text case-folded (str.casefold: any script), for the console's word search
    Column("folded", Text),
    Column("v2v_ms", Double),  # a reply's voice-to-voice time, for the dashboard
    UniqueConstraint("call_id", "idx"),
    sqlite_autoincrement=True,
)  # fmt: skip

messages = Table(
    "messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", Text, ForeignKey("calls.call_id", ondelete="SET NULL")),
    Column("created_at", Double, nullable=False),
    Column("language", Text),
    Column("name", Text),
    Column("callback_number", Text),
    Column("reason", Text),
    Column("urgency", Text, nullable=False, server_default="normal"),
    Column("caller_id", Text),
    Column("notified", Text, nullable=False, server_default="{}"),
    Column("handled_at", Double),
    Column("handled_by", Text),
    # false: the call ended before the caller confirmed the message (migration 0003)
    Column("confirmed", Boolean, nullable=False, server_default=true()),
    Index("messages_created_at", "created_at"),
    sqlite_autoincrement=True,
)  # fmt: skip

console_users = Table(
    "console_users", metadata,
    Column("name", Text, primary_key=True),
    Column("role", Text, CheckConstraint("role IN ('admin', 'receptionist')"), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Double, nullable=False),
)  # fmt: skip

console_audit = Table(
    "console_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Double, nullable=False),
    Column("who", Text),
    Column("what", Text, nullable=False),
    Column("details", Text, nullable=False, server_default="{}"),
    Index("console_audit_at", "at"),
    sqlite_autoincrement=True,
)  # fmt: skip
