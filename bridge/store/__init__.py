"""Durable call records: SQLite by default, PostgreSQL when DATABASE_URL is set."""

from __future__ import annotations

from bridge.config import Settings
from bridge.store.base import CallQuery, CallStore, CallSummary, UnknownCallError
from bridge.store.postgres_store import open_postgres_store
from bridge.store.sqlite_store import open_sqlite_store

SQLITE_FILENAME = "calls.db"

__all__ = ["CallQuery", "CallStore", "CallSummary", "UnknownCallError", "open_store"]


async def open_store(settings: Settings) -> CallStore:
    """The configured store, connected and migrated to the newest schema."""
    dsn = settings.database_url.get_secret_value()
    if dsn:
        store = await open_postgres_store(dsn)
    else:
        store = await open_sqlite_store(settings.data_dir / SQLITE_FILENAME)
    try:
        await store.migrate()
    except BaseException:
        await store.close()
        raise
    return store
