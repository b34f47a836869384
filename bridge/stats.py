"""`GET /api/stats`: the server's side of the benchmark, with the speech pool's queueing.

The lag histograms live in `observability.lag`; this probe feeds them (a clock per media
stream, a timer on the loop) and serves them to `bridge bench` and operators.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from pydantic import BaseModel

from bridge.api import authorized
from bridge.config import Settings
from bridge.observability.lag import (
    REALTIME_RELAY,
    LagHistogram,
    LagSummary,
    StreamClock,
    lag_summary,
    rss_bytes,
)
from bridge.speech.pool import ModelWorkerPool, PoolStats

LOOP_TICK_S = 0.05


class ServerStats(BaseModel):
    live_calls: int
    rss_bytes: int
    frame_lag: LagSummary
    loop_lag: LagSummary
    speech_pool: PoolStats
    realtime_relay: LagSummary | None = None  # realtime calls: model delta read -> media written


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
            frame_lag=lag_summary(self.frames),
            loop_lag=lag_summary(self.loop),
            speech_pool=self._pool.stats(),
            realtime_relay=lag_summary(REALTIME_RELAY),
        )

    async def handler(self, request: web.Request) -> web.Response:
        """`GET /api/stats`; `?reset=1` starts the lag histograms afresh (between bench steps)."""
        if not authorized(self._settings, request):
            raise web.HTTPUnauthorized(text="admin token required")
        body = self.snapshot().model_dump_json()
        if request.query.get("reset"):
            self.frames.reset()
            self.loop.reset()
            REALTIME_RELAY.reset()
        return web.json_response(text=body)
