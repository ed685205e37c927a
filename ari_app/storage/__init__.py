"""Where calls are recorded: `calls.py` (the call record's reads and writes), `tables.py`
(the schema), `database.py` (the engine: an SQLite file or PostgreSQL, and its Alembic
`migrations/`)."""

from ari_app.storage.calls import (
    CALL_SEARCH_ORDER,
    MAX_CALL_S,
    CallStore,
    call_search_query,
    call_search_where,
)
from ari_app.storage.database import Database, StorageError

__all__ = ["CALL_SEARCH_ORDER", "MAX_CALL_S", "CallStore", "Database", "StorageError",
           "call_search_query", "call_search_where"]
