"""Input limits on one media socket: a message-rate budget and the tallies of bad frames.

Twilio sends about 50 `media` frames a second plus a `mark` echo per piece of agent audio;
after a network hiccup it may deliver a backlog at once. The budget allows that with room
to spare, so only a peer that is not Twilio (or a runaway one) ever reaches it. Frames over
budget are dropped unread; past the thresholds the socket is closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field


class StreamLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Sustained frames per second (5x Twilio's media rate: the simulator may run faster than
    # real time) and the backlog allowed at once (10 s of audio at Twilio's rate).
    messages_per_s: float = Field(default=250.0, gt=0)
    burst: int = Field(default=500, ge=1)
    # Close the socket past this many malformed frames, or frames dropped over budget.
    max_malformed: int = Field(default=50, ge=1)
    max_over_rate: int = Field(default=500, ge=1)
    # Twilio sends `start` right after connecting: a socket still without one after this long
    # is closed, and at most this many sockets may be waiting for theirs at once.
    start_timeout_s: float = Field(default=10.0, gt=0)
    max_waiting_for_start: int = Field(default=200, ge=1)
    # Per source (bridge/twilio/admission.py): sockets waiting for `start` (Twilio's wait
    # milliseconds, so even hundreds of calls a second from one address keep a few waiting),
    # and handshakes not followed by a valid `start`, sustained and at once.
    waiting_per_source: int = Field(default=20, ge=1)
    handshakes_per_s_per_source: float = Field(default=2.0, gt=0)
    handshake_burst_per_source: int = Field(default=40, ge=1)
    # New connections per direct peer (not a trusted proxy), sustained and at once; faster, it
    # is shut out like a refused source (bridge/twilio/accept.py). 0: no limit.
    connections_per_s_per_source: float = Field(default=0.0, ge=0)
    connection_burst_per_source: int = Field(default=1, ge=1)
    # Handshakes (signature check and upgrade) running at once, over all sources.
    concurrent_handshakes: int = Field(default=4, ge=1)


class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved up; each message spends one."""

    def __init__(
        self, rate: float, capacity: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._capacity = float(capacity)
        self._tokens = float(capacity)
        self._clock = clock
        self._last = clock()

    def take(self) -> bool:
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def give_back(self) -> None:
        """Return one spent token (never beyond the capacity)."""
        self._refill()
        self._tokens = min(self._capacity, self._tokens + 1.0)

    @property
    def full(self) -> bool:
        self._refill()
        return self._tokens >= self._capacity

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._last) * self._rate)
        self._last = now


class StreamGuard:
    """One socket's budget and tallies; `closing_reason` says when it has had enough."""

    def __init__(self, limits: StreamLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._bucket = TokenBucket(limits.messages_per_s, limits.burst, clock)
        self.malformed = 0
        self.unknown_events = 0
        self.binary = 0
        self.over_rate = 0

    def admit(self) -> bool:
        """Spend one message of the budget; False (and counted) when there is none left."""
        if self._bucket.take():
            return True
        self.over_rate += 1
        return False

    @property
    def closing_reason(self) -> str | None:
        if self.malformed > self._limits.max_malformed:
            return f"more than {self._limits.max_malformed} malformed frames"
        if self.over_rate > self._limits.max_over_rate:
            return f"more than {self._limits.max_over_rate} frames over the rate limit"
        return None

    @property
    def troubled(self) -> bool:
        return bool(self.malformed or self.unknown_events or self.binary or self.over_rate)

    def summary(self) -> str:
        return (
            f"{self.malformed} malformed, {self.unknown_events} unknown-event, "
            f"{self.binary} binary and {self.over_rate} over-rate frames"
        )
