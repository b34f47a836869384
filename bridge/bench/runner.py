"""Runs the benchmark: steps of N concurrent calls, or many sequential calls, and measures."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field

import aiohttp

from bridge.bench.caller import BenchCall, CallPlan, CallResult, Pacer
from bridge.bench.hostile import FLOOD_FROM, HostileLoad
from bridge.bench.realtime import RealtimeFigures, RealtimeProbe
from bridge.bench.report import (
    MB,
    BenchReport,
    LevelReport,
    Percentiles,
    SequentialReport,
    count_errors,
)
from bridge.bench.server import ServerUnderTest
from bridge.observability.lag import LATE_MS
from bridge.sim.fake_realtime import FakeRealtime
from bridge.sim.handshake import Target

SETTLE_S = 1.0  # after the ramp, before the steady window opens
SEQUENTIAL_SAMPLES = 10
CONNECTION_LIMIT = 0  # aiohttp: no cap on simultaneous sockets to the bridge


@dataclass
class Samples:
    """Raw latencies of one level, for the plot."""

    calls: int
    turn_ms: list[float] = field(default_factory=list)
    barge_ms: list[float] = field(default_factory=list)


class BenchRunner:
    def __init__(
        self,
        server: ServerUnderTest,
        plan: CallPlan,
        speed: float = 1.0,
        stand_in: FakeRealtime | None = None,
        hostile: tuple[int, int] = (0, 0),
        flood_from: str = FLOOD_FROM,
    ) -> None:
        self._server = server
        # Beside each level's calls: this many idle media sockets and slow HTTP clients.
        self._hostile = hostile
        self._flood_from = flood_from
        self._stand_in = stand_in  # realtime mode: the Realtime API stand-in, in this process
        self._plan = plan
        self._target = Target(server.url, server.account_sid, server.auth_token)
        self._pacer = Pacer(speed)
        self._speed = speed
        self.samples: list[Samples] = []

    async def run(
        self,
        levels: list[int],
        ramp_s: float,
        sequential: int,
        concurrency: int,
        report: BenchReport,
    ) -> BenchReport:
        connector = aiohttp.TCPConnector(limit=CONNECTION_LIMIT)
        ticking = asyncio.create_task(self._pacer.run(), name="pacer")
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                # One call first, so the idle figure includes what any call leaves loaded.
                await BenchCall(self._target, self._warm_up_plan()).run(http, self._pacer)
                idle = self._server.rss_bytes()
                report.idle_rss_mb = idle / MB if idle is not None else None
                for calls in levels:
                    report.levels.append(await self._level(http, calls, ramp_s, idle))
                if sequential:
                    report.sequential = await self._sequential(http, sequential, concurrency)
        finally:
            ticking.cancel()
            await asyncio.gather(ticking, return_exceptions=True)
        return report

    def _warm_up_plan(self) -> CallPlan:
        return CallPlan(**{**vars(self._plan), "max_turns": 1, "barge_every": 0})

    async def _level(
        self, http: aiohttp.ClientSession, calls: int, ramp_s: float, idle_rss: int | None
    ) -> LevelReport:
        server = self._server
        await server.stats(http, reset=True)
        late_before = self._pacer.lateness.at_least(LATE_MS)
        figures = RealtimeFigures()
        stand_in = self._stand_in
        if stand_in is not None:
            stand_in.truncations.clear()
        bench_calls = [
            BenchCall(
                self._target,
                self._plan,
                RealtimeProbe(stand_in, figures) if stand_in is not None else None,
            )
            for _ in range(calls)
        ]
        running: list[Awaitable[CallResult]] = []
        for call in bench_calls:
            running.append(asyncio.create_task(call.run(http, self._pacer)))
            await asyncio.sleep(ramp_s / calls)
        # Once every call is live, the flood (if any) opens, and lasts until they end.
        async with self._flood() as hostile:
            await asyncio.sleep(SETTLE_S)
            # The steady window: every call started, none finished yet.
            cpu_a, wall_a, own_a = server.cpu_seconds(), time.perf_counter(), time.process_time()
            messages_a = stand_in.messages_received if stand_in else 0
            first_done = [asyncio.ensure_future(call.finished.wait()) for call in bench_calls]
            await asyncio.wait(first_done, return_when=asyncio.FIRST_COMPLETED)
            cpu_b, wall_b, own_b = server.cpu_seconds(), time.perf_counter(), time.process_time()
            messages_b = stand_in.messages_received if stand_in else 0
            rss = server.rss_bytes()
            stats = await server.stats(http)
            results = await asyncio.gather(*running)
            for waiter in first_done:
                waiter.cancel()
        window = wall_b - wall_a
        cpu_per_call_s = core_use = None
        if cpu_a is not None and cpu_b is not None and window > 0:
            core_use = (cpu_b - cpu_a) / window
            cpu_per_call_s = core_use / calls / self._speed
        samples = Samples(calls)
        errors: list[str] = []
        added: list[float] = []
        for result in results:
            samples.turn_ms += result.turn_ms
            samples.barge_ms += result.barge_ms
            added += result.added_ms
            errors += result.errors
        self.samples.append(samples)
        realtime = None
        if stats is not None:
            realtime = stats.frame_lag.late == 0 and stats.loop_lag.p99_ms < LATE_MS
        return LevelReport(
            calls=calls,
            duration_s=self._plan.duration_s / self._speed,
            turn_ms=Percentiles.of(samples.turn_ms),
            added_ms=Percentiles.of(added),
            barge_in_ms=Percentiles.of(samples.barge_ms),
            server_cpu_s_per_call_s=cpu_per_call_s,
            server_core_use=core_use,
            calls_per_core=1 / cpu_per_call_s if cpu_per_call_s else None,
            rss_per_call_bytes=(rss - idle_rss) / calls if rss and idle_rss else None,
            frame_lag=stats.frame_lag if stats else None,
            loop_lag=stats.loop_lag if stats else None,
            realtime=realtime,
            generator_late_ticks=self._pacer.lateness.at_least(LATE_MS) - late_before,
            generator_core_use=(own_b - own_a) / window if window > 0 else 0.0,
            frames_sent=sum(r.frames_sent for r in results),
            media_received=sum(r.media_received for r in results),
            calls_completed=sum(r.completed for r in results),
            errors=count_errors(errors),
            speech_pool=stats.speech_pool if stats else None,
            hostile=hostile.report.model_copy() if hostile is not None else None,
            relay_ms=Percentiles.of(figures.relay_ms) if stand_in else None,
            server_relay=stats.realtime_relay if stand_in and stats else None,
            clear_after_speech_started_ms=Percentiles.of(figures.clear_ms) if stand_in else None,
            truncate_error_ms=Percentiles.of(figures.truncate_error_ms(stand_in))
            if stand_in
            else None,
            model_messages_per_call_s=(messages_b - messages_a) / window / calls / self._speed
            if stand_in and window > 0
            else None,
        )

    @contextlib.asynccontextmanager
    async def _flood(self) -> AsyncIterator[HostileLoad | None]:
        if not any(self._hostile):
            yield None
            return
        async with HostileLoad(self._target, *self._hostile, source=self._flood_from) as load:
            yield load

    async def _sequential(
        self, http: aiohttp.ClientSession, total: int, concurrency: int
    ) -> SequentialReport:
        """`total` short calls (one turn each), `concurrency` at a time; RSS sampled as they end."""
        plan = self._warm_up_plan()
        every = max(1, total // SEQUENTIAL_SAMPLES)
        slots = asyncio.Semaphore(concurrency)
        errors: list[str] = []
        rss_mb: list[tuple[int, float]] = []
        finished = 0

        async def one() -> None:
            nonlocal finished
            async with slots:
                result = await BenchCall(self._target, plan).run(http, self._pacer)
            errors.extend(result.errors)
            finished += 1
            if finished % every == 0:
                rss = self._server.rss_bytes()
                if rss is not None:
                    rss_mb.append((finished, round(rss / MB, 2)))

        await asyncio.gather(*(one() for _ in range(total)))
        drift = None
        if len(rss_mb) >= 2:
            drift = round((rss_mb[-1][1] - rss_mb[0][1]) / rss_mb[0][1] * 100, 2)
        return SequentialReport(
            calls=total,
            concurrency=concurrency,
            rss_mb=rss_mb,
            drift_pct=drift,
            errors=count_errors(errors),
        )
