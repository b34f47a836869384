"""What the shared SQL store needs from a database driver: transactions of statements."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Row = dict[str, Any]


class Transaction(Protocol):
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one query; its rows as column-name dicts."""


class Database(Protocol):
    def transaction(self, *, write: bool) -> AbstractAsyncContextManager[Transaction]:
        """A transaction that commits (durably) on normal exit and rolls back on error.

        SQL handed to the transaction is already rendered for this database's dialect.
        """

    async def close(self) -> None: ...
