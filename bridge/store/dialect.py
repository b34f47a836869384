"""The few places where SQLite and PostgreSQL differ, so the SQL itself is written once.

Shared SQL uses `?` placeholders and `{ts}`/`{json}`/`{id_pk}` type tokens in migrations;
each dialect renders those and converts parameter and column values to and from Python.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC; every stored moment is UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Dialect:
    name: str
    column_types: dict[str, str]
    # Run first in the migration transaction so two processes never migrate at once.
    migration_lock: str | None

    def render_ddl(self, sql: str) -> str:
        return sql.format(**self.column_types)

    def render_query(self, sql: str) -> str:
        return sql if self.name == "sqlite" else sql.replace("?", "%s")

    def ts(self, moment: datetime | None) -> Any:
        if moment is None:
            return None
        if self.name == "sqlite":
            # Fixed-width UTC ISO text sorts and compares in time order.
            return as_utc(moment).isoformat(timespec="microseconds")
        return as_utc(moment)

    def json(self, value: Any) -> Any:
        if value is None:
            return None
        if self.name == "sqlite":
            return json.dumps(value, separators=(",", ":"))
        return Jsonb(value)

    def load_json(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


SQLITE = Dialect(
    name="sqlite",
    column_types={
        "ts": "TEXT",
        "json": "TEXT",
        "id_pk": "INTEGER PRIMARY KEY AUTOINCREMENT",
    },
    # SQLite transactions are opened with BEGIN IMMEDIATE, which already serialises writers.
    migration_lock=None,
)

POSTGRES = Dialect(
    name="postgres",
    column_types={
        "ts": "TIMESTAMPTZ",
        "json": "JSONB",
        "id_pk": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    },
    # A transaction-scoped advisory lock needs no table yet; the key is arbitrary but fixed.
    migration_lock="SELECT pg_advisory_xact_lock(7243500917)",
)
