"""Both store backends for every store test: SQLite in tmp_path and a real PostgreSQL.

The PostgreSQL cluster (tests/support/postgres.py, one per session) gives each test a fresh
database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bridge.config import Settings
from bridge.store import CallStore, open_store
from tests.support.postgres import PostgresCluster, fresh_database


@pytest.fixture(params=["sqlite", "postgres"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings that select one backend, on empty storage of its own."""
    if request.param == "sqlite":
        return Settings(_env_file=None, BRIDGE_DATA_DIR=tmp_path / "data", DATABASE_URL="")
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return Settings(
        _env_file=None, BRIDGE_DATA_DIR=tmp_path / "data", DATABASE_URL=fresh_database(cluster)
    )


@pytest_asyncio.fixture
async def store(store_settings: Settings) -> AsyncIterator[CallStore]:
    opened = await open_store(store_settings)
    try:
        yield opened
    finally:
        await opened.close()
