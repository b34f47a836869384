"""A small aiohttp app served on loopback for one test: stand-ins for proxies and backends."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.log import access_logger


@asynccontextmanager
async def serving(
    app: web.Application, *, access_log: logging.Logger | None = access_logger
) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; yields its base URL (http://127.0.0.1:PORT)."""
    runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=access_log)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
