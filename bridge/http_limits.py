"""Deadlines for slow HTTP clients, so an unfinished request cannot hold a connection forever.

aiohttp closes a connection that sits idle, including one whose request head never arrives
whole, after its keep-alive timeout: `runner_options` sets that to REQUEST_TIMEOUT_S (aiohttp's
own default is an hour). A head that did arrive may still be followed by a body trickled a
byte at a time; `body_deadline` reads every form or JSON body whole within the same time
(408 otherwise) before any handler sees it. Multipart bodies are read only by the console's
signed-in upload form, which streams them to disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bridge.config import Settings

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def runner_options(settings: Settings) -> dict[str, Any]:
    """What every `web.AppRunner` serving the bridge is given."""
    return {"keepalive_timeout": settings.request_timeout_s}


def body_deadline(settings: Settings) -> Callable[[web.Request, Handler], Awaitable]:
    timeout_s = settings.request_timeout_s

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists and request.content_type != "multipart/form-data":
            try:
                async with asyncio.timeout(timeout_s):
                    await request.read()  # kept by aiohttp for the handler's post()/text()
            except TimeoutError:
                log.warning("request body not received within %.0f s: closed", timeout_s)
                raise web.HTTPRequestTimeout(text="the request body came too slowly") from None
        return await handler(request)

    return middleware
