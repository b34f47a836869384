"""How far behind real time the server runs: frame and loop lag, counted in histograms.

Two lags tell whether the process keeps up. Frame lag: each inbound `media` frame carries its
stream time; arrival time minus stream time, less the smallest such difference seen on that
stream, is how late the frame was handled (a growing backlog shows as growing lag). Loop lag:
how late a periodic timer fires. Both cost a few float operations; neither allocates per frame.
"""

from __future__ import annotations

import os
import time

from pydantic import BaseModel

LATE_MS = 20.0  # a frame handled a whole frame late is late
# Histogram edges in ms: lag values are counted per bucket, so memory stays constant.
LAG_BUCKETS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)


class LagHistogram:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.counts = [0] * (len(LAG_BUCKETS_MS) + 1)
        self.total = 0
        self.max_ms = 0.0

    def add(self, lag_ms: float) -> None:
        self.total += 1
        if lag_ms > self.max_ms:
            self.max_ms = lag_ms
        index = 0
        for edge in LAG_BUCKETS_MS:
            if lag_ms < edge:
                break
            index += 1
        self.counts[index] += 1

    def at_least(self, ms: float) -> int:
        """How many values fell in buckets starting at `ms` or above."""
        return sum(
            n for edge, n in zip((0, *LAG_BUCKETS_MS), self.counts, strict=True) if edge >= ms
        )

    def quantile_ms(self, fraction: float) -> float:
        """The upper edge of the bucket holding this quantile (an upper bound)."""
        wanted, seen = fraction * self.total, 0
        for edge, n in zip((*LAG_BUCKETS_MS, self.max_ms), self.counts, strict=True):
            seen += n
            if seen >= wanted and n:
                return round(float(min(edge, self.max_ms)), 2)
        return 0.0


class StreamClock:
    """One stream's frame-lag tracker: the smallest arrival-minus-stream-time is "on time"."""

    __slots__ = ("_histogram", "_offset")

    def __init__(self, histogram: LagHistogram) -> None:
        self._histogram = histogram
        self._offset: float | None = None

    def frame(self, timestamp_ms: float) -> None:
        skew = time.perf_counter() * 1000 - timestamp_ms
        if self._offset is None or skew < self._offset:
            self._offset = skew
        self._histogram.add(skew - self._offset)


class LagSummary(BaseModel):
    count: int
    late: int  # at least LATE_MS behind
    p50_ms: float
    p99_ms: float
    max_ms: float


# Realtime calls: the bridge's own time per model audio delta, from its bytes read off the
# model's socket to its `media` frame written to Twilio's (ms). One per process, like metrics.
REALTIME_RELAY = LagHistogram()


def lag_summary(histogram: LagHistogram) -> LagSummary:
    return LagSummary(
        count=histogram.total,
        late=histogram.at_least(LATE_MS),
        p50_ms=histogram.quantile_ms(0.5),
        p99_ms=histogram.quantile_ms(0.99),
        max_ms=round(histogram.max_ms, 2),
    )


def rss_bytes(pid: int | str = "self") -> int:
    """Resident memory of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
