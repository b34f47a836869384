"""PostgreSQL driver for the call store: psycopg 3 async over a small connection pool."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from bridge.store.database import Row
from bridge.store.dialect import POSTGRES
from bridge.store.sql_store import SqlCallStore

POOL_MAX_SIZE = 8
CONNECT_TIMEOUT_S = 10.0


class _PostgresTransaction:
    def __init__(self, cursor: AsyncCursor[DictRow]) -> None:
        self._cursor = cursor

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        await self._cursor.execute(sql, params)
        return self._cursor.rowcount

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        await self._cursor.execute(sql, params)
        return list(await self._cursor.fetchall())


class PostgresDatabase:
    def __init__(self, dsn: str, max_size: int = POOL_MAX_SIZE) -> None:
        self._pool: AsyncConnectionPool[AsyncConnection[DictRow]] = AsyncConnectionPool(
            dsn,
            min_size=1,
            max_size=max_size,
            open=False,
            kwargs={"row_factory": dict_row},
            connection_class=AsyncConnection[DictRow],
        )

    async def connect(self) -> None:
        await self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[_PostgresTransaction]:
        # Reads and writes alike run in one transaction, for a consistent view of a call.
        async with (
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor() as cursor,
        ):
            yield _PostgresTransaction(cursor)

    async def close(self) -> None:
        await self._pool.close()


async def open_postgres_store(dsn: str) -> SqlCallStore:
    """A call store on the PostgreSQL database at `dsn` (a libpq URL or key=value string)."""
    db = PostgresDatabase(dsn)
    await db.connect()
    return SqlCallStore(db, POSTGRES)
