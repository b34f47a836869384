"""Opening the SQLite store from several processes or instances at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge.store.schema import MIGRATIONS
from bridge.store.sqlite_store import open_sqlite_store

ROUNDS = 40
OPENERS = 8


async def test_connections_opening_a_new_file_together_all_switch_it_to_wal(
    tmp_path: Path,
) -> None:
    # Switching a new file to WAL fails at once with SQLITE_BUSY while another connection
    # is switching it; without waiting that out, about one round in ten failed here.
    for round_no in range(ROUNDS):
        path = tmp_path / f"round-{round_no}" / "calls.sqlite3"
        stores = await asyncio.gather(*(open_sqlite_store(path) for _ in range(OPENERS)))
        try:
            await asyncio.gather(*(store.migrate() for store in stores))
            versions = [await store.schema_version() for store in stores]
        finally:
            for store in stores:
                await store.close()
        assert versions == [MIGRATIONS[-1].version] * OPENERS
