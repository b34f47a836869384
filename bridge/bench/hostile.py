"""Clients that hold the bridge's connections and never finish anything, beside the bench's
calls: signed media sockets that never send `start`, and HTTP clients that trickle a request
head and never end it. Each comes back as soon as the bridge closes or refuses it, so the
pressure lasts the whole level; the level's frame lag then says what it cost the live calls.

This is a flood: `bridge bench` runs it against a loopback bridge only.
"""

from __future__ import annotations

import asyncio
import ipaddress
from types import TracebackType
from urllib.parse import urlsplit

import aiohttp
from pydantic import BaseModel

from bridge.sim.handshake import Target
from bridge.twilio import messages
from bridge.twilio.signature import sign_request

RETRY_S = 1.0  # after a refusal or a failed connect, before trying again
TRICKLE_S = 2.0  # a slow client sends one more header byte this often
OPEN_OVER_S = 2.0  # the flood's sockets open spread over this long


class HostileReport(BaseModel):
    idle_sockets: int
    slow_clients: int
    sockets_opened: int = 0
    sockets_refused: int = 0  # 503 at the handshake: the cap on sockets waiting for `start`
    sockets_closed: int = 0  # closed by the bridge: the `start` deadline
    slow_opened: int = 0
    slow_closed: int = 0  # closed by the bridge: the request deadline
    failures: int = 0  # connects that failed otherwise (refused, reset)


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HostileLoad:
    """`async with HostileLoad(...) as load:` floods until the block ends; `load.report`."""

    def __init__(
        self, http: aiohttp.ClientSession, target: Target, idle_sockets: int, slow_clients: int
    ) -> None:
        if not is_loopback(target.base_url):
            raise ValueError("hostile clients run against a loopback bridge only")
        self._http = http
        self._target = target
        self.report = HostileReport(idle_sockets=idle_sockets, slow_clients=slow_clients)
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> HostileLoad:
        idle, slow = self.report.idle_sockets, self.report.slow_clients
        for n in range(idle):
            self._tasks.append(asyncio.create_task(self._idle_socket(n * OPEN_OVER_S / idle)))
        for n in range(slow):
            self._tasks.append(asyncio.create_task(self._slow_client(n * OPEN_OVER_S / slow)))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _idle_socket(self, delay_s: float) -> None:
        """A socket signed like Twilio's that says `connected` and then nothing, forever."""
        await asyncio.sleep(delay_s)
        base = self._target.base_url.rstrip("/")
        url = "ws" + base.removeprefix("http") + "/twilio/media"
        headers = {"X-Twilio-Signature": sign_request(self._target.auth_token, url, {})}
        report = self.report
        while True:
            try:
                async with self._http.ws_connect(url, headers=headers, autoping=True) as ws:
                    report.sockets_opened += 1
                    await ws.send_str(messages.connected_message())
                    async for _ in ws:
                        pass
                    report.sockets_closed += 1
                    continue
            except aiohttp.WSServerHandshakeError as refused:
                if refused.status == 503:
                    report.sockets_refused += 1
                else:
                    report.failures += 1
            except (aiohttp.ClientError, OSError):
                report.failures += 1
            await asyncio.sleep(RETRY_S)

    async def _slow_client(self, delay_s: float) -> None:
        """A request head a byte at a time, never finished."""
        await asyncio.sleep(delay_s)
        where = urlsplit(self._target.base_url)
        report = self.report
        while True:
            try:
                reader, writer = await asyncio.open_connection(where.hostname, where.port)
            except OSError:
                report.failures += 1
                await asyncio.sleep(RETRY_S)
                continue
            report.slow_opened += 1
            try:
                writer.write(b"POST /twilio/voice HTTP/1.1\r\nHost: bridge\r\nX-Slow: ")
                while True:
                    try:
                        data = await asyncio.wait_for(reader.read(4096), TRICKLE_S)
                    except TimeoutError:
                        writer.write(b"a")
                        continue
                    if not data:
                        report.slow_closed += 1
                        break
            except OSError:
                report.slow_closed += 1
            finally:
                writer.close()
