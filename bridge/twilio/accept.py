"""Where connections are accepted: each one is looked at on the listening socket itself, by
its address alone, before asyncio or aiohttp builds anything for it.

- A connection from a source in penalty (refused a media handshake less than Retry-After ago,
  or over its connection budget when one is set; see `admission.py`) goes to the tarpit:
  held open and unread, not watched by the event loop, for TARPIT_HOLD_S, then reset. Its
  client waits on it instead of reconnecting, so a flood's reconnect loop stalls; a held
  socket costs a file descriptor and no CPU. Closed at once instead, a flood that reconnects
  straight away came back hundreds of times a second, and each connection cost an accept, a
  transport, a task and a close on the loop that reads live calls. The tarpit is bounded
  (TARPIT_MAX, and a quarter of the process's file limit); past it, a connection is reset at
  once. Out of file descriptors, the tarpit is emptied first.
- At most ACCEPTS_PER_TURN connections are taken per turn of the event loop, so a burst of
  connects is spread over turns with live calls' frames read in between.
- Every other connection is handed to aiohttp as asyncio's own server would hand it.
A direct peer only is held: a peer in TRUSTED_PROXIES speaks for many clients, always heard.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import struct
import time
from collections import deque
from collections.abc import Callable
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from aiohttp import web
from yarl import URL

from bridge.twilio.admission import MEDIA_ADMISSION, MediaAdmission, source_of

log = logging.getLogger(__name__)

ACCEPTS_PER_TURN = 16
TARPIT_MAX = 1024
SWEEP_S = 0.1  # held sockets past their time are reset this often ...
RESETS_PER_SWEEP = 100  # ... this many at most, so a thousand due at once are spread out
OUT_OF_FILES_PAUSE_S = 1.0  # accepting waits this long after EMFILE (as asyncio's server does)
BACKLOG = 1024
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, no TIME_WAIT here

Networks = list[IPv4Network | IPv6Network]


def reset(conn: socket.socket) -> None:
    """Close with a reset: the peer learns at once, and no TIME_WAIT is left on our side."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    except OSError:
        pass
    conn.close()


def tarpit_capacity() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return TARPIT_MAX
    return max(0, min(TARPIT_MAX, soft // 4))


class Tarpit:
    """Connections held open, unread and unwatched, until their time is up."""

    def __init__(
        self, capacity: int, hold_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._capacity = capacity
        self._hold_s = hold_s
        self._clock = clock
        self._held: deque[tuple[float, socket.socket]] = deque()
        self.held_in_all = 0
        self.reset_at_once = 0

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, conn: socket.socket) -> bool:
        """Hold `conn`; False (and nothing done) when the tarpit is full or holds for 0 s."""
        if self._hold_s <= 0 or len(self._held) >= self._capacity:
            return False
        self._held.append((self._clock() + self._hold_s, conn))
        self.held_in_all += 1
        return True

    def release_due(self, at_most: int) -> int:
        """Reset up to `at_most` sockets whose time is up (all were held equally long, so the
        oldest are the first due)."""
        now, released = self._clock(), 0
        while self._held and released < at_most and self._held[0][0] <= now:
            reset(self._held.popleft()[1])
            released += 1
        return released

    def release_oldest(self, count: int) -> None:
        for _ in range(min(count, len(self._held))):
            reset(self._held.popleft()[1])

    def release_all(self) -> None:
        self.release_oldest(len(self._held))


class AcceptGate:
    """Accepts on listening sockets: to the tarpit, or handed to `serve` (aiohttp's server)."""

    def __init__(
        self,
        serve: Callable[[], asyncio.Protocol],
        admission: MediaAdmission,
        trusted_proxies: Networks,
        tarpit: Tarpit,
    ) -> None:
        self._serve = serve
        self._admission = admission
        self._trusted = trusted_proxies
        self.tarpit = tarpit
        self._listeners: list[socket.socket] = []
        self._handing: set[asyncio.Task[Any]] = set()
        self._sweeping: asyncio.TimerHandle | None = None
        self.out_of_files = 0  # times accept found no file descriptor left

    def listen(self, listener: socket.socket) -> None:
        listener.setblocking(False)
        self._listeners.append(listener)
        asyncio.get_running_loop().add_reader(listener.fileno(), self._accept, listener)

    def unlisten(self, listener: socket.socket) -> None:
        """Stop accepting on `listener` (still the caller's to close)."""
        if listener in self._listeners:
            self._listeners.remove(listener)
            asyncio.get_running_loop().remove_reader(listener.fileno())

    def close(self) -> None:
        """Reset what is held and drop what is being handed over."""
        if self._sweeping is not None:
            self._sweeping.cancel()
            self._sweeping = None
        self.tarpit.release_all()
        for task in self._handing:
            task.cancel()

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(ACCEPTS_PER_TURN):
            try:
                conn, peer = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                self._out_of_files(listener, exc)
                return
            self._route(conn, peer)

    def _route(self, conn: socket.socket, peer: Any) -> None:
        if isinstance(peer, tuple) and self._shut_out(peer[0]):
            if self.tarpit.hold(conn):
                self._sweep_soon()
            else:
                self.tarpit.reset_at_once += 1
                reset(conn)
            return
        conn.setblocking(False)
        loop = asyncio.get_running_loop()
        task = loop.create_task(loop.connect_accepted_socket(self._serve, conn))
        self._handing.add(task)
        task.add_done_callback(self._handed)

    def _shut_out(self, peer: str) -> bool:
        try:
            address = ip_address(peer)
        except ValueError:
            return False
        if any(address in network for network in self._trusted):
            return False
        return not self._admission.take_connection(source_of(peer))

    def _handed(self, task: asyncio.Task[Any]) -> None:
        self._handing.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("a connection failed as it was set up: %s", exc)

    def _sweep_soon(self) -> None:
        if self._sweeping is None:
            self._sweeping = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep)

    def _sweep(self) -> None:
        self._sweeping = None
        self.tarpit.release_due(RESETS_PER_SWEEP)
        if len(self.tarpit):
            self._sweep_soon()

    def _out_of_files(self, listener: socket.socket, exc: OSError) -> None:
        """No descriptor for a new connection: the tarpit's go first, and if it held none,
        accepting pauses (the pending connections wait in the kernel's backlog)."""
        self.out_of_files += 1
        held = len(self.tarpit)
        self.tarpit.release_all()
        if held:
            log.warning("out of file descriptors (%s): %d held connections reset", exc, held)
            return
        log.error("out of file descriptors (%s): accepting paused", exc)
        loop = asyncio.get_running_loop()
        loop.remove_reader(listener.fileno())

        def resume() -> None:
            if listener in self._listeners:
                loop.add_reader(listener.fileno(), self._accept, listener)

        loop.call_later(OUT_OF_FILES_PAUSE_S, resume)


class GatedSite(web.BaseSite):
    """A site that accepts through its runner's `AcceptGate`: on `host` and `port`, or on an
    already bound `sock`."""

    def __init__(
        self,
        runner: GatedAppRunner,
        host: str | None = None,
        port: int = 0,
        *,
        sock: socket.socket | None = None,
        backlog: int = BACKLOG,
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._gated = runner
        self._host = host
        self._port = port
        self._sock = sock
        self._listeners: list[socket.socket] = []
        self._own: list[socket.socket] = []

    @property
    def name(self) -> str:
        host, port = self._host or "0.0.0.0", self._port
        if self._sock is not None:
            host, port = self._sock.getsockname()[:2]
        return str(URL.build(scheme="http", host=host, port=port))

    async def start(self) -> None:
        await super().start()
        gate = self._gated.gate
        if self._sock is not None:
            self._sock.listen(self._backlog)
            self._listeners.append(self._sock)
            gate.listen(self._sock)
            return
        for family, _, _, _, address in socket.getaddrinfo(
            self._host, self._port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            listener = socket.socket(family, socket.SOCK_STREAM)
            self._own.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            listener.bind(address)
            listener.listen(self._backlog)
            self._listeners.append(listener)
            gate.listen(listener)

    async def stop(self) -> None:
        for listener in self._listeners:
            self._gated.gate.unlisten(listener)
        self._listeners.clear()
        for listener in self._own:
            listener.close()
        self._own.clear()
        await super().stop()


class GatedAppRunner(web.AppRunner):
    """An `AppRunner` for `GatedSite`s, over the app's media admission (the app must hold it
    under MEDIA_ADMISSION); `tarpit_hold_s` 0 resets shut-out connections at once."""

    def __init__(
        self,
        app: web.Application,
        trusted_proxies: Networks,
        tarpit_hold_s: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, **kwargs)
        self._trusted = trusted_proxies
        self._tarpit_hold_s = tarpit_hold_s
        self._gate: AcceptGate | None = None

    @property
    def gate(self) -> AcceptGate:
        if self._gate is None:
            raise RuntimeError("call setup() first")
        return self._gate

    async def setup(self) -> None:
        await super().setup()
        served = self.server
        assert served is not None
        tarpit = Tarpit(tarpit_capacity(), self._tarpit_hold_s)
        self._gate = AcceptGate(served, self.app[MEDIA_ADMISSION], self._trusted, tarpit)

    async def cleanup(self) -> None:
        await super().cleanup()  # stops the sites first
        if self._gate is not None:
            self._gate.close()
        self._gate = None
