"""Order backends named by a dialplan: a CSV file, an SQLite table, or an HTTP service.

File and database work runs in a thread so a lookup never stalls the calls sharing the loop.
Files are read on every lookup: an admin's edit shows up on the next call, and the example
files are small. A real store with many orders belongs behind SQLite or HTTP.
"""

from __future__ import annotations

import asyncio
import csv
import re
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bridge.dialplan.models import CsvOrders, HttpOrders, OrderBackend, SqliteOrders

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# What an order id may be before any backend sees it: letters, digits, `-` and `_` inside,
# at most 32 characters. No `.`, `/` or `%`: an id is never a path (`..`) nor a pattern.
ORDER_ID = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,30}[A-Za-z0-9])?$")


class Order(BaseModel):
    """One order as a backend reports it; unknown columns are ignored."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    order_id: str
    status: str
    item: str = ""
    carrier: str = ""
    eta: date | None = None
    phone: str = ""  # the customer's number, E.164
    zip: str = ""

    @field_validator("item", "carrier", "phone", "zip", mode="before")
    @classmethod
    def _empty_for_null(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("eta", mode="before")
    @classmethod
    def _none_for_blank(cls, value: Any) -> Any:
        return None if value == "" else value


class OrderBackendError(RuntimeError):
    """The backend could not answer (unreachable, timed out, malformed data)."""


class InvalidOrderId(ValueError):
    """Not an order id: refused before any backend is asked."""


class OrderLookup(Protocol):
    async def find(self, order_id: str) -> Order | None:
        """The order, or None when the backend does not know it; raises OrderBackendError."""
        ...


def _to_order(row: dict[str, Any], source: str) -> Order:
    try:
        return Order.model_validate(row)
    except ValidationError as exc:
        raise OrderBackendError(f"{source}: malformed order: {exc}") from exc


class CsvOrderLookup:
    """A CSV file with a header row that has at least `order_id` and `status`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def find(self, order_id: str) -> Order | None:
        row = await asyncio.to_thread(self._find_row, order_id.strip())
        return None if row is None else _to_order(row, str(self.path))

    def _find_row(self, order_id: str) -> dict[str, Any] | None:
        try:
            with self.path.open(newline="", encoding="utf-8") as file:
                reader = csv.DictReader(file)
                if not reader.fieldnames or "order_id" not in reader.fieldnames:
                    raise OrderBackendError(f"{self.path}: no order_id column in the header")
                for row in reader:
                    if (row.get("order_id") or "").strip() == order_id:
                        return row
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise OrderBackendError(f"{self.path}: {exc}") from exc
        return None


class SqliteOrderLookup:
    """A table with an `order_id` column; the file is opened read-only for each lookup."""

    def __init__(self, path: Path, table: str = "orders") -> None:
        if not _IDENTIFIER.match(table):
            raise ValueError(f"table name {table!r} is not a plain SQL identifier")
        self.path = path
        self.table = table

    async def find(self, order_id: str) -> Order | None:
        row = await asyncio.to_thread(self._find_row, order_id.strip())
        return None if row is None else _to_order(row, f"{self.path}:{self.table}")

    def _find_row(self, order_id: str) -> dict[str, Any] | None:
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        try:
            with closing(sqlite3.connect(uri, uri=True)) as db:
                db.row_factory = sqlite3.Row
                found = db.execute(
                    f'SELECT * FROM "{self.table}" WHERE order_id = ?', (order_id,)
                ).fetchone()
        except sqlite3.Error as exc:
            raise OrderBackendError(f"{self.path}: {exc}") from exc
        return None if found is None else dict(found)


class HttpOrderLookup:
    """GET {url}/{order_id}: 200 with the order as JSON, 404 when unknown."""

    def __init__(self, url: str, timeout_s: float = 3.0, headers: dict[str, str] | None = None):
        self.url = url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.headers = headers or {}

    async def find(self, order_id: str) -> Order | None:
        url = f"{self.url}/{quote(order_id.strip(), safe='')}"
        # Errors name the backend, not the URL: it holds the order id, and errors are logged.
        where = f"order backend {self.url}"
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout, headers=self.headers) as session,
                session.get(url) as response,
            ):
                if response.status == 404:
                    return None
                if response.status != 200:
                    raise OrderBackendError(f"{where}: HTTP {response.status}")
                body = await response.json(content_type=None)
        except TimeoutError as exc:
            raise OrderBackendError(f"{where}: no answer within {self.timeout.total} s") from exc
        except aiohttp.ClientError as exc:
            raise OrderBackendError(f"{where}: {type(exc).__name__}") from exc
        except ValueError as exc:
            raise OrderBackendError(f"{where}: the answer is not JSON") from exc
        if not isinstance(body, dict):
            raise OrderBackendError(f"{where}: expected a JSON object")
        return _to_order({"order_id": order_id.strip(), **body}, where)


class CheckedOrderLookup:
    """Every backend is reached through this: an id that is not `ORDER_ID` never gets there."""

    def __init__(self, backend: OrderLookup) -> None:
        self.backend = backend

    async def find(self, order_id: str) -> Order | None:
        order_id = order_id.strip()
        if not ORDER_ID.match(order_id):
            raise InvalidOrderId(order_id)
        return await self.backend.find(order_id)


def open_order_lookup(backend: OrderBackend | None) -> OrderLookup | None:
    """The lookup a dialplan's `orders` names (ids checked first); None when it names none."""
    match backend:
        case CsvOrders(path=path):
            return CheckedOrderLookup(CsvOrderLookup(path))
        case SqliteOrders(path=path, table=table):
            return CheckedOrderLookup(SqliteOrderLookup(path, table))
        case HttpOrders(url=url, timeout_s=timeout_s, headers=headers):
            return CheckedOrderLookup(HttpOrderLookup(url, timeout_s, headers))
        case _:
            return None
