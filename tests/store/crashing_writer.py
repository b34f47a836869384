"""A bridge stand-in that dies mid-call: run as a subprocess by test_call_store_crash.

It records a call and two turns, then starts writing a third turn in a transaction it never
commits, says so on stdout and waits to be SIGKILLed. The backend comes from the environment
(BRIDGE_DATA_DIR / DATABASE_URL), as for the bridge itself.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from bridge.config import Settings
from bridge.records import CallRecord, TurnRecord
from bridge.store import SQLITE_FILENAME
from bridge.store.database import Database
from bridge.store.dialect import POSTGRES, SQLITE, Dialect
from bridge.store.postgres_store import PostgresDatabase
from bridge.store.queries import UPSERT_TURN
from bridge.store.sql_store import SqlCallStore
from bridge.store.sqlite_store import SqliteDatabase


async def _database(settings: Settings) -> tuple[Database, Dialect]:
    dsn = settings.database_url.get_secret_value()
    if dsn:
        postgres = PostgresDatabase(dsn)
        await postgres.connect()
        return postgres, POSTGRES
    sqlite = SqliteDatabase(settings.data_dir / SQLITE_FILENAME)
    await sqlite.connect()
    return sqlite, SQLITE


async def main(call_sid: str) -> None:
    db, dialect = await _database(Settings(_env_file=None))
    store = SqlCallStore(db, dialect)
    await store.migrate()
    await store.open_call(CallRecord(call_sid=call_sid, dialplan="acme"))
    for index in (0, 1):
        await store.add_turn(call_sid, TurnRecord(index=index, caller=f"turn {index}"))
    async with db.transaction(write=True) as tx:
        text = ("never committed", "", "")
        tools, latency, usage = dialect.json([]), dialect.json({}), None
        started = dialect.ts(datetime.now(UTC))
        params = (call_sid, 2, "speech", *text, False, 0, tools, latency, usage, started, 0)
        await tx.execute(dialect.render_query(UPSERT_TURN), params)
        print("third turn in flight", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
