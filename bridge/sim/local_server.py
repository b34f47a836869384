"""A fake of a remote service (Twilio's REST API, an LLM, the Realtime API) served on loopback."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

from aiohttp import web


class LocalServer(ABC):
    """Serves the fake's routes on `host` (port 0: any free port) from `start` until `close`;
    `async with` does both."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.url = ""  # e.g. http://127.0.0.1:43210 once started

    @abstractmethod
    def _routes(self, router: web.UrlDispatcher) -> None:
        """Add the fake's routes."""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving; returns the base URL it answers on."""
        app = web.Application()
        self._routes(app.router)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
