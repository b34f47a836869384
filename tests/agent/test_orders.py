"""Order backends: the shipped CSV and SQLite files, and an HTTP service on loopback."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from bridge.agent.orders import (
    CheckedOrderLookup,
    CsvOrderLookup,
    HttpOrderLookup,
    OrderBackendError,
    SqliteOrderLookup,
    open_order_lookup,
)
from bridge.dialplan.models import CsvOrders, HttpOrders, SqliteOrders
from tests.support.loopback import serving

DATA = Path(__file__).resolve().parents[2] / "dialplans" / "data"


async def test_csv_lookup_finds_a_shipped_order() -> None:
    order = await CsvOrderLookup(DATA / "acme-orders.csv").find("4572")
    assert order is not None
    assert (order.status, order.carrier, order.eta) == ("shipped", "UPS", date(2025, 6, 14))


async def test_csv_lookup_reads_blank_cells_as_missing() -> None:
    order = await CsvOrderLookup(DATA / "acme-orders.csv").find("20518")
    assert order is not None
    assert (order.status, order.carrier, order.eta) == ("cancelled", "", None)


async def test_csv_lookup_returns_none_for_an_unknown_order() -> None:
    assert await CsvOrderLookup(DATA / "acme-orders.csv").find("999999") is None


async def test_csv_without_order_id_column_is_a_backend_error(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("id,status\n1,shipped\n")
    with pytest.raises(OrderBackendError, match="order_id"):
        await CsvOrderLookup(path).find("1")


async def test_sqlite_lookup_finds_an_order_in_the_shipped_example() -> None:
    order = await SqliteOrderLookup(DATA / "cedar-orders.sqlite").find("3141")
    assert order is not None
    assert (order.item, order.eta) == ("The Left Hand of Darkness", date(2025, 6, 12))


async def test_sqlite_lookup_reads_integer_ids_and_nulls(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE sales (order_id INTEGER, status TEXT, carrier TEXT, eta TEXT)")
        db.execute("INSERT INTO sales VALUES (77001, 'processing', NULL, NULL)")
        db.commit()
    lookup = SqliteOrderLookup(path, table="sales")
    order = await lookup.find("77001")
    assert order is not None
    assert (order.order_id, order.status, order.carrier, order.eta) == (
        "77001",
        "processing",
        "",
        None,
    )
    assert await lookup.find("77002") is None


async def test_sqlite_missing_table_is_a_backend_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with pytest.raises(OrderBackendError, match="no such table"):
        await SqliteOrderLookup(path, table="orders").find("1")


def test_sqlite_table_name_must_be_a_plain_identifier(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="identifier"):
        SqliteOrderLookup(tmp_path / "x.db", table='orders"; DROP TABLE orders; --')


@pytest_asyncio.fixture
async def order_service() -> AsyncIterator[tuple[str, list[web.Request]]]:
    """A real order service on loopback: 4572 exists, `slow` never answers in time."""
    seen: list[web.Request] = []
    release = asyncio.Event()

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        order_id = request.match_info["order_id"]
        if order_id == "4572":
            return web.json_response({"status": "shipped", "eta": "2025-06-14", "extra": 1})
        if order_id == "slow":
            await release.wait()
        if order_id == "broken":
            return web.Response(status=500)
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/orders/{order_id}", handle)
    async with serving(app) as url:
        yield f"{url}/orders/", seen
        release.set()


async def test_http_lookup_gets_the_order_with_the_configured_headers(
    order_service: tuple[str, list[web.Request]],
) -> None:
    url, seen = order_service
    order = await HttpOrderLookup(url, headers={"Authorization": "Bearer k"}).find("4572")
    assert order is not None
    assert (order.order_id, order.status, order.eta) == ("4572", "shipped", date(2025, 6, 14))
    assert seen[0].headers["Authorization"] == "Bearer k"


async def test_http_404_means_no_such_order(order_service: tuple[str, list[web.Request]]) -> None:
    url, _ = order_service
    assert await HttpOrderLookup(url).find("1234") is None


async def test_http_server_error_is_a_backend_error(
    order_service: tuple[str, list[web.Request]],
) -> None:
    url, _ = order_service
    with pytest.raises(OrderBackendError, match="HTTP 500"):
        await HttpOrderLookup(url).find("broken")


async def test_http_timeout_is_a_backend_error(
    order_service: tuple[str, list[web.Request]],
) -> None:
    url, _ = order_service
    with pytest.raises(OrderBackendError, match="no answer"):
        await HttpOrderLookup(url, timeout_s=0.05).find("slow")


async def test_http_order_id_cannot_escape_the_path(
    order_service: tuple[str, list[web.Request]],
) -> None:
    url, seen = order_service
    assert await HttpOrderLookup(url).find("../admin") is None
    assert seen[0].raw_path == "/orders/..%2Fadmin"


async def test_open_order_lookup_builds_each_backend_behind_the_id_check(tmp_path: Path) -> None:
    assert open_order_lookup(None) is None
    csv_lookup = open_order_lookup(CsvOrders(path=tmp_path / "a.csv"))
    assert isinstance(csv_lookup, CheckedOrderLookup)
    assert isinstance(csv_lookup.backend, CsvOrderLookup)
    sqlite = open_order_lookup(SqliteOrders(path=tmp_path / "a.db", table="t"))
    assert isinstance(sqlite, CheckedOrderLookup)
    assert isinstance(sqlite.backend, SqliteOrderLookup) and sqlite.backend.table == "t"
    http = open_order_lookup(HttpOrders(url="http://h/orders", timeout_s=2))
    assert isinstance(http, CheckedOrderLookup)
    assert isinstance(http.backend, HttpOrderLookup) and http.backend.timeout.total == 2
