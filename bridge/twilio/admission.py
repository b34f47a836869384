"""Who may open a media socket, before it has sent its `start`: per-source budgets.

The upgrade's signature covers only the URL, the same for every call, so it cannot tell a flood
from Twilio; only `start`'s single-use token can, and it comes after the handshake. So:

- Each source (client address; an IPv6 client's /64) has a handshake budget, checked first,
  before the signature or the upgrade costs anything; over it, 429. A socket whose `start`
  redeems a valid token gives its handshake back, so the budget counts only sockets that did
  not prove themselves: Twilio's, which send `start` within milliseconds, never spend it.
- Sockets waiting for `start` are capped per source and in all, and at a cap the newcomer is
  let in: the oldest waiting socket of that source (at the global cap, of the source holding
  the most) is pushed out. A flood can only push out its own old sockets, never refuse a new
  call; a real socket would be pushed out only if a cap's worth of newer ones from its source
  arrived before its `start`, which the handshake budget does not allow.
- At most a few handshakes run at once; each waits its turn on the event loop, so a burst of
  them is spread over many loop turns and live calls' frames are read in between.
- A source just refused is in penalty for the 429's Retry-After: its new connections go to a
  tarpit as they are accepted (`accept.py`), before aiohttp reads a byte, since a flood that
  reconnects at once spent most of its cost in request parsing and the 429. Only a direct peer
  is shut out so: a trusted proxy speaks for many clients and is always heard.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from ipaddress import IPv6Address, ip_address, ip_network

from aiohttp import web

from bridge.twilio.limits import StreamLimits, TokenBucket

# Past this many sources with a budget, those whose budget has refilled are forgotten; sources
# beyond it still (a flood from that many addresses) share one budget.
MAX_SOURCES = 4096
CROWD = "(many sources)"
# A refused source is told to come back after this long (429's Retry-After); until then its
# connections are closed as they are accepted. Its budget refills meanwhile as always.
RETRY_AFTER_S = 2


def source_of(remote: str | None) -> str:
    """The budget key of a client address: IPv4 as is, IPv6 by its /64 (one host's share)."""
    try:
        address = ip_address(remote or "")
    except ValueError:
        return remote or ""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ip_network(f"{address}/64", strict=False))
    return str(address)


class Waiter:
    """One socket waiting for its `start`; `push_out` is how the admission ends its wait."""

    __slots__ = ("push_out", "pushed_out", "source")

    def __init__(self, source: str, push_out: Callable[[], None]) -> None:
        self.source = source
        self.push_out = push_out
        self.pushed_out = False


class MediaAdmission:
    def __init__(self, limits: StreamLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._budgets: dict[str, TokenBucket] = {}
        self._connection_budgets: dict[str, TokenBucket] = {}
        self._waiting: dict[str, OrderedDict[int, Waiter]] = {}
        self._total_waiting = 0
        self._penalty_until: dict[str, float] = {}
        self._handshakes = asyncio.Semaphore(limits.concurrent_handshakes)
        self.pushed_out = 0

    @property
    def waiting(self) -> int:
        return self._total_waiting

    def take_handshake(self, source: str) -> bool:
        """Spend one of the source's handshakes; False (and a penalty) when it has none left."""
        limits = self._limits
        return self._spend(
            self._budgets,
            source,
            limits.handshakes_per_s_per_source,
            limits.handshake_burst_per_source,
        )

    def take_connection(self, source: str) -> bool:
        """A new connection from `source` (a direct peer): False when it is to be shut out,
        for a penalty, or for connecting faster than its connection budget (a penalty then).
        Connecting while in penalty renews it: only a source that stops for Retry-After is
        heard again."""
        if self.in_penalty(source):
            self._penalise(source)
            return False
        limits = self._limits
        if not limits.connections_per_s_per_source:
            return True
        return self._spend(
            self._connection_budgets,
            source,
            limits.connections_per_s_per_source,
            limits.connection_burst_per_source,
        )

    def _spend(self, budgets: dict[str, TokenBucket], source: str, rate: float, burst: int) -> bool:
        """Take one from the source's budget in `budgets`; out of it, a penalty and False."""
        if self._budget(budgets, source, rate, burst).take():
            return True
        self._penalise(source)
        return False

    def _penalise(self, source: str) -> None:
        if len(self._penalty_until) >= MAX_SOURCES:
            now = self._clock()
            self._penalty_until = {k: t for k, t in self._penalty_until.items() if t > now}
        if len(self._penalty_until) < MAX_SOURCES:
            self._penalty_until[source] = self._clock() + RETRY_AFTER_S

    def in_penalty(self, source: str) -> bool:
        """Refused a handshake under RETRY_AFTER_S ago: its connections are not worth reading."""
        until = self._penalty_until.get(source)
        if until is None:
            return False
        if self._clock() < until:
            return True
        del self._penalty_until[source]
        return False

    def give_back_handshake(self, source: str) -> None:
        """The socket proved itself (a redeemed token): its handshake was not the flood's."""
        budget = self._budgets.get(source) or self._budgets.get(CROWD)
        if budget is not None:
            budget.give_back()

    @asynccontextmanager
    async def handshake(self) -> AsyncIterator[None]:
        """Hold one of the few handshake places, entered on a later loop turn than the request
        arrived on, so the frames already read are handled first."""
        async with self._handshakes:
            await asyncio.sleep(0)
            yield

    def wait_for_start(self, source: str, push_out: Callable[[], None]) -> Waiter:
        """Count a socket as waiting, pushing out the oldest over a cap (never the newcomer)."""
        mine = self._waiting.setdefault(source, OrderedDict())
        if len(mine) >= self._limits.waiting_per_source:
            self._push_out_oldest(source)
        elif self._total_waiting >= self._limits.max_waiting_for_start:
            self._push_out_oldest(max(self._waiting, key=lambda s: len(self._waiting[s])))
        waiter = Waiter(source, push_out)
        mine = self._waiting.setdefault(source, OrderedDict())
        mine[id(waiter)] = waiter
        self._total_waiting += 1
        return waiter

    def done_waiting(self, waiter: Waiter) -> None:
        """The socket sent its `start`, or closed; idempotent."""
        mine = self._waiting.get(waiter.source)
        if mine is None or mine.pop(id(waiter), None) is None:
            return
        self._total_waiting -= 1
        if not mine:
            del self._waiting[waiter.source]

    def _push_out_oldest(self, source: str) -> None:
        mine = self._waiting.get(source)
        if not mine:
            return
        oldest = next(iter(mine.values()))
        self.done_waiting(oldest)
        oldest.pushed_out = True
        self.pushed_out += 1
        oldest.push_out()

    def _budget(
        self, budgets: dict[str, TokenBucket], source: str, rate: float, burst: int
    ) -> TokenBucket:
        budget = budgets.get(source)
        if budget is not None:
            return budget
        if len(budgets) >= MAX_SOURCES:
            for key in [key for key, b in budgets.items() if b.full]:
                del budgets[key]
        if len(budgets) >= MAX_SOURCES:
            source = CROWD
            if CROWD in budgets:
                return budgets[CROWD]
        budget = TokenBucket(rate, burst, self._clock)
        budgets[source] = budget
        return budget


MEDIA_ADMISSION = web.AppKey("media_admission", MediaAdmission)
