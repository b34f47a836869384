"""SQLite driver for the call store: one connection, owned by one worker thread.

Every sqlite3 call runs on that thread, never on the event loop. The file is in WAL mode
with synchronous=FULL, so a committed turn survives the process being killed.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from bridge.store.database import Row
from bridge.store.dialect import SQLITE
from bridge.store.sql_store import SqlCallStore

T = TypeVar("T")

# Another process (the CLI next to a running bridge) may hold the write lock briefly.
BUSY_TIMEOUT_MS = 10_000


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL, waiting out other connections doing the same.

    Changing the journal mode of a new file fails at once with SQLITE_BUSY while another
    connection is switching it; SQLite's busy handler does not wait here, so we do. This
    runs on the store's worker thread, never on the event loop.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class _SqliteTransaction:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self._db.run(lambda conn: conn.execute(sql, params).rowcount)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._db.run(
            lambda conn: [dict(row) for row in conn.execute(sql, params).fetchall()]
        )


class SqliteDatabase:
    def __init__(self, path: Path) -> None:
        self._path = path
        # One thread runs every sqlite call in submission order, so a rollback queued after
        # a cancelled statement still runs before the next transaction's BEGIN.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        # One transaction at a time on the single connection.
        self._lock = asyncio.Lock()
        self._conn: sqlite3.Connection | None = None

    async def connect(self) -> None:
        self._conn = await self._submit(self._connect)

    def _connect(self) -> sqlite3.Connection:
        # Callers' numbers and transcripts: the folder and the file are the owner's only
        # (SQLite gives the -wal and -shm files the database file's permissions).
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(self._path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(self._path, 0o600)
        # Autocommit mode: transactions are opened explicitly by `transaction()`.
        conn = sqlite3.connect(self._path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        if conn is None:
            raise RuntimeError("the SQLite store is closed")
        return await self._submit(lambda: work(conn))

    async def _submit(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[_SqliteTransaction]:
        async with self._lock:
            try:
                # IMMEDIATE takes the write lock up front, so writers never deadlock on upgrade.
                await self.run(lambda conn: conn.execute("BEGIN IMMEDIATE" if write else "BEGIN"))
                yield _SqliteTransaction(self)
            except BaseException:
                # A no-op when BEGIN itself failed; runs after a cancelled statement finishes.
                await self.run(lambda conn: conn.rollback())
                raise
            await self.run(lambda conn: conn.commit())

    async def close(self) -> None:
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                await self._submit(conn.close)
        self._executor.shutdown(wait=False)


async def open_sqlite_store(path: Path) -> SqlCallStore:
    """A call store on the SQLite file at `path` (created with its folder if missing)."""
    db = SqliteDatabase(path)
    await db.connect()
    return SqlCallStore(db, SQLITE)
