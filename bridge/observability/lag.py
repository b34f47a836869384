"""The server's side of the benchmark: how far behind real time it runs, at `GET /api/stats`.

Two lags tell whether the process keeps up. Frame lag: each inbound `media` frame carries its
stream time; arrival time minus stream time, less the smallest such difference seen on that
stream, is how late the frame was handled (a growing backlog shows as growing lag). Loop lag:
how late a periodic timer fires. Both cost a few float operations; neither allocates per frame.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from pydantic import BaseModel

from bridge.api import authorized
from bridge.config import Settings
from bridge.speech.pool import ModelWorkerPool, PoolStats

LATE_MS = 20.0  # a frame handled a whole frame late is late
LOOP_TICK_S = 0.05
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


class ServerStats(BaseModel):
    live_calls: int
    rss_bytes: int
    frame_lag: LagSummary
    loop_lag: LagSummary
    speech_pool: PoolStats


def _summary(histogram: LagHistogram) -> LagSummary:
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


class LagProbe:
    """Frame and loop lag of this process; `handler` serves them with the pool's queueing."""

    def __init__(
        self, settings: Settings, pool: ModelWorkerPool, live_calls: Callable[[], int]
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._live_calls = live_calls
        self.frames = LagHistogram()
        self.loop = LagHistogram()

    def stream(self) -> StreamClock:
        return StreamClock(self.frames)

    async def watch_loop(self, app: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: a timer that measures how late the loop wakes it."""

        async def tick() -> None:
            while True:
                due = time.perf_counter() + LOOP_TICK_S
                await asyncio.sleep(LOOP_TICK_S)
                self.loop.add(max(0.0, time.perf_counter() - due) * 1000)

        task = asyncio.create_task(tick(), name="loop-lag")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    def snapshot(self) -> ServerStats:
        return ServerStats(
            live_calls=self._live_calls(),
            rss_bytes=rss_bytes(),
            frame_lag=_summary(self.frames),
            loop_lag=_summary(self.loop),
            speech_pool=self._pool.stats(),
        )

    async def handler(self, request: web.Request) -> web.Response:
        """`GET /api/stats`; `?reset=1` starts the lag histograms afresh (between bench steps)."""
        if not authorized(self._settings, request):
            raise web.HTTPUnauthorized(text="admin token required")
        body = self.snapshot().model_dump_json()
        if request.query.get("reset"):
            self.frames.reset()
            self.loop.reset()
        return web.json_response(text=body)
