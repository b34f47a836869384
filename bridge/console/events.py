"""Server-sent events: a page's live part, re-rendered on the server and pushed on change.

Turns reach the store through each call's write-behind journal, so a stream re-renders what
the store holds (and which calls Services.live holds) every POLL_S while a browser watches,
and sends the HTML only when it changed. Streams are bounded in number, send a comment now
and then so a closed tab is noticed, and all end when the server shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiohttp import web

POLL_S = 0.5
KEEPALIVE_S = 15.0
MAX_STREAMS = 64

# The page's new live HTML, and whether it is final (no more changes will come).
Render = Callable[[], Awaitable[tuple[str, bool]]]


def sse_event(event: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n".encode()


class EventStreams:
    def __init__(self) -> None:
        self._stopping = asyncio.Event()
        self._open = 0

    async def stream(self, request: web.Request, render: Render) -> web.StreamResponse:
        if self._open >= MAX_STREAMS or self._stopping.is_set():
            raise web.HTTPServiceUnavailable(text="too many live views open")
        self._open += 1
        try:
            response = web.StreamResponse(
                headers={
                    "Content-Type": "text/event-stream",
                    "Cache-Control": "no-store",
                    "X-Accel-Buffering": "no",  # nginx: pass events through at once
                }
            )
            await response.prepare(request)
            with contextlib.suppress(ConnectionResetError):
                await self._pump(response, render)
            return response
        finally:
            self._open -= 1

    async def _pump(self, response: web.StreamResponse, render: Render) -> None:
        last = None
        quiet_s = 0.0
        while not self._stopping.is_set():
            html, final = await render()
            if html != last:
                await response.write(sse_event("update", html))
                last, quiet_s = html, 0.0
            if final:
                await response.write(sse_event("end", ""))
                return
            if quiet_s >= KEEPALIVE_S:
                await response.write(b": keepalive\n\n")
                quiet_s = 0.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), POLL_S)
            quiet_s += POLL_S

    async def stop(self, app: web.Application) -> None:
        """On shutdown: end every stream, so none holds the server open."""
        self._stopping.set()
