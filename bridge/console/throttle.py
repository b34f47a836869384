"""Login attempts are admitted before they are checked, never answered early.

Each client address gets one attempt at a time, spaced `interval_s` apart, right or wrong:
the answer to a guess never comes sooner than the throttle allows, so timing tells nothing.
An attempt arriving while the same address already has one waiting is refused at once with
429, unchecked; so parallel guesses buy nothing and queue nobody, and a user at another
address never waits behind them. A global budget bounds guesses from many addresses.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from bridge.twilio.limits import TokenBucket

ATTEMPT_INTERVAL_S = 1.0
# Attempts a second from all addresses together, and the burst allowed.
GLOBAL_RATE, GLOBAL_BURST = 5.0, 20
# Addresses remembered (their last attempt); the oldest are forgotten first.
MAX_TRACKED = 10_000


class LoginThrottle:
    def __init__(
        self,
        interval_s: float = ATTEMPT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._last: OrderedDict[str, float] = OrderedDict()
        self._waiting: set[str] = set()
        self._budget = TokenBucket(GLOBAL_RATE, GLOBAL_BURST, clock)

    @asynccontextmanager
    async def attempt(self, client: str) -> AsyncIterator[None]:
        """Wait for this client's turn, then check inside the block; 429 when not admitted."""
        if client in self._waiting:
            raise web.HTTPTooManyRequests(text="one login attempt at a time, please")
        if not self._budget.take():
            raise web.HTTPTooManyRequests(text="too many login attempts: try again shortly")
        self._waiting.add(client)
        try:
            wait = self._last.get(client, -self._interval_s) + self._interval_s - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            self._remember(client)
            yield
        finally:
            self._waiting.discard(client)

    def _remember(self, client: str) -> None:
        self._last[client] = self._clock()
        self._last.move_to_end(client)
        while len(self._last) > MAX_TRACKED:
            self._last.popitem(last=False)
