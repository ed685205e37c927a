"""Alembic's entry point for the call database's migrations. The program runs them on
its own connection when it opens the database (`ari_app.storage.database`); a developer
writing a new revision can point Alembic at a database with `-x url=...`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from ari_app.storage.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database: alembic -x url=sqlite:///var/calls.sqlite3 ...")
    with create_engine(url).begin() as conn:
        _run(conn)
