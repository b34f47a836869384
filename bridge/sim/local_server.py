"""A fake of a remote service (Twilio's REST API, an LLM, the Realtime API) served on loopback."""

from __future__ import annotations

from aiohttp import web


class LocalServer:
    """Serves one aiohttp app on `host` (port 0: any free port) until closed."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.url = ""  # e.g. http://127.0.0.1:43210 once serving

    async def serve(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving `app`; returns the base URL it answers on."""
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
