"""Messages the caller did not confirm: a message cut off by the end of the call (the
caller hung up during the read-back of the number) is kept with `confirmed` false, so the
staff know to check it. Messages stored before this revision were all confirmed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("confirmed", sa.Boolean, nullable=False,
                                        server_default=sa.true()))


def downgrade() -> None:
    op.drop_column("messages", "confirmed")
