"""Clients that hold the bridge's connections and never finish anything, beside the bench's
calls: signed media sockets that never send `start`, and HTTP clients that trickle a request
head and never end it. Each comes back as soon as the bridge closes or refuses it, so the
pressure lasts the whole level; the level's frame lag then says what it cost the live calls.

The flood runs in its own process, so its own work never delays the bench's calls on their
way out (their lateness is then the bridge's), and from its own loopback address (FLOOD_FROM), as
an attacker elsewhere would; `--flood-from 127.0.0.1` shares the calls' address instead.
This is a flood: `bridge bench` runs it against a loopback bridge only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import multiprocessing
import os
import time
from multiprocessing.synchronize import Event
from types import TracebackType
from urllib.parse import urlsplit

import aiohttp
from pydantic import BaseModel

from bridge.sim.handshake import Target
from bridge.twilio import messages
from bridge.twilio.signature import sign_request

FLOOD_FROM = "127.0.0.2"  # Linux answers on all of 127.0.0.0/8
RETRY_S = 1.0  # after a refusal or a failed connect, before trying again
TRICKLE_S = 2.0  # a slow client sends one more header byte this often
OPEN_OVER_S = 2.0  # the flood's sockets open spread over this long
STOP_GRACE_S = 30.0  # for the child to cancel its clients and report


class HostileReport(BaseModel):
    idle_sockets: int
    slow_clients: int
    sockets_opened: int = 0
    source: str = FLOOD_FROM  # the loopback address the flood comes from
    sockets_refused: int = 0  # refused at the handshake (429: over the source's budget)
    sockets_closed: int = 0  # closed by the bridge: the `start` deadline, or pushed out
    slow_opened: int = 0
    slow_closed: int = 0  # closed by the bridge: the request deadline
    failures: int = 0  # connects that failed otherwise (refused, reset, held unanswered)
    attempts: int = 0  # connections tried, in all
    seconds: float = 0.0  # how long the flood lasted

    @property
    def attempts_per_s(self) -> float:
        return self.attempts / self.seconds if self.seconds else 0.0


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HostileLoad:
    """`async with HostileLoad(...) as load:` floods from a child process until the block
    ends; then `load.report`."""

    def __init__(
        self, target: Target, idle_sockets: int, slow_clients: int, source: str = FLOOD_FROM
    ) -> None:
        if not is_loopback(target.base_url) or not is_loopback(f"http://{source}"):
            raise ValueError("hostile clients run against a loopback bridge only")
        self._target = target
        self.report = HostileReport(
            idle_sockets=idle_sockets, slow_clients=slow_clients, source=source
        )
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._reports: multiprocessing.Queue[str] = context.Queue(maxsize=1)
        self._process = context.Process(
            target=_flood_process,
            args=(target, idle_sockets, slow_clients, source, self._stop, self._reports),
            name="bench flood",
            daemon=True,
        )

    async def __aenter__(self) -> HostileLoad:
        self._process.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        try:
            text = await asyncio.to_thread(self._reports.get, True, STOP_GRACE_S)
            self.report = HostileReport.model_validate_json(text)
        finally:
            await asyncio.to_thread(self._process.join, STOP_GRACE_S)
            if self._process.is_alive():
                self._process.kill()


def _flood_process(
    target: Target,
    idle_sockets: int,
    slow_clients: int,
    source: str,
    stop: Event,
    reports: multiprocessing.Queue[str],
) -> None:
    """The child: flood until `stop` is set, then send back the report. At the lowest CPU
    priority: on a shared core the bench's own calls must still go out on time."""
    os.nice(19)

    async def flood() -> HostileReport:
        connector = aiohttp.TCPConnector(limit=0, local_addr=(source, 0))
        async with (
            aiohttp.ClientSession(connector=connector) as http,
            FloodClients(http, target, idle_sockets, slow_clients, source) as clients,
        ):
            began = time.monotonic()
            await asyncio.to_thread(stop.wait)
        clients.report.seconds = round(time.monotonic() - began, 2)
        return clients.report

    reports.put(asyncio.run(flood()).model_dump_json())


class FloodClients:
    """The flood's clients, in the process that runs them."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        target: Target,
        idle_sockets: int,
        slow_clients: int,
        source: str,
    ) -> None:
        self._http = http
        self._target = target
        self._source = source
        self.report = HostileReport(
            idle_sockets=idle_sockets, slow_clients=slow_clients, source=source
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> FloodClients:
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
            report.attempts += 1
            try:
                async with self._http.ws_connect(url, headers=headers, autoping=True) as ws:
                    report.sockets_opened += 1
                    await ws.send_str(messages.connected_message())
                    async for _ in ws:
                        pass
                    report.sockets_closed += 1
                    continue
            except aiohttp.WSServerHandshakeError as refused:
                if refused.status in (429, 503):
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
            report.attempts += 1
            try:
                reader, writer = await asyncio.open_connection(
                    where.hostname, where.port, local_addr=(self._source, 0)
                )
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
