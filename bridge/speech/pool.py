"""One bounded pool of threads for model inference, shared by every call in the process.

Speech models are CPU-bound: running more inferences than there are workers only makes every
call slower, so jobs beyond the workers wait here, and beyond `queue_limit` waiting jobs the
pool refuses at once (`PoolSaturated`) instead of letting latency grow without bound.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel

T = TypeVar("T")

# How many recent jobs the wait/run percentiles are computed over.
STATS_WINDOW = 512


def inference_threads() -> int:
    """Threads for one model inference: every core this process may run on.

    One caller's turn waits on one inference at a time (its transcript, then its reply's
    first sentence), so it should get all the cores: on 2 cores Whisper's turn takes half the
    wall time. When both workers run at once, the threads oversubscribe the cores, which
    measured at 3-10 % more CPU (onnxruntime does not spin; CTranslate2 waits briefly).
    """
    return len(os.sched_getaffinity(0)) or 1


# Set inside `background()`: this task's model work gives way to live calls.
_BACKGROUND: ContextVar[bool] = ContextVar("speech_background", default=False)


@contextmanager
def background() -> Iterator[None]:
    """Model work started in this block (warming the phrase cache) waits on every pool until
    no other job is waiting, and leaves a worker free for the next live job when the pool has
    more than one: a caller's transcript or first sentence never queues behind it."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


class PoolSaturated(RuntimeError):
    """More jobs are already waiting than the pool's queue limit allows."""


class PoolClosed(RuntimeError):
    """The pool was closed; it takes no more jobs."""


class PoolStats(BaseModel):
    """A snapshot of the pool, for the benchmark and /api."""

    name: str
    workers: int
    queue_limit: int
    running: int
    waiting: int
    submitted: int  # admitted jobs (rejected ones are not counted here)
    completed: int  # ran to the end, with a result or an exception
    failed: int  # of the completed, those that raised
    rejected: int  # refused with PoolSaturated
    cancelled: int  # awaiting task cancelled (while waiting or while running)
    window: int  # how many recent jobs the percentiles cover
    wait_p50_ms: float
    wait_p95_ms: float
    run_p50_ms: float
    run_p95_ms: float


@dataclass
class _Timing:
    """When one job was admitted, started and ended (perf_counter seconds)."""

    admitted: float
    started: float | None = None
    ended: float | None = None
    failed: bool = False


@dataclass
class _Counters:
    submitted: int = 0
    completed: int = 0
    failed: int = 0
    rejected: int = 0
    cancelled: int = 0
    waits_ms: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_WINDOW))
    runs_ms: deque[float] = field(default_factory=lambda: deque(maxlen=STATS_WINDOW))


def _percentile(values: deque[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))
    return round(ordered[index], 2)


class ModelWorkerPool:
    """`workers` threads; at most `queue_limit` further jobs wait for one.

    Bound to the event loop it is first used on (the process has one).
    """

    def __init__(self, workers: int, queue_limit: int, name: str) -> None:
        if workers < 1 or queue_limit < 0:
            raise ValueError("workers must be >= 1 and queue_limit >= 0")
        self.name = name
        self.workers = workers
        self.queue_limit = queue_limit
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix=f"{name}-worker"
        )
        # A slot is a worker thread; a job holds one from submission until its thread is free.
        self._slots = asyncio.Semaphore(workers)
        self._running = 0
        self._waiting = 0
        # Set whenever a worker frees or a waiting job leaves: background work looks again.
        self._changed = asyncio.Event()
        self._counters = _Counters()
        self._closed = False

    @property
    def busy(self) -> bool:
        """A job is running in a worker now."""
        return self._running > 0

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` in a worker and return its result (or raise its exception)."""
        if _BACKGROUND.get():
            await self._background_turn()
        if self._closed:
            raise PoolClosed(f"pool {self.name!r} is closed")
        # Jobs woken for a freed worker still count as waiting until they run, hence the sum.
        if self._running + self._waiting >= self.workers + self.queue_limit:
            self._counters.rejected += 1
            raise PoolSaturated(
                f"pool {self.name!r}: {self._waiting} jobs waiting (limit {self.queue_limit})"
            )
        timing = _Timing(admitted=time.perf_counter())
        self._counters.submitted += 1
        self._waiting += 1
        try:
            await self._slots.acquire()
        except asyncio.CancelledError:
            self._counters.cancelled += 1
            raise
        finally:
            self._waiting -= 1
            self._changed.set()
        if self._closed:
            self._slots.release()
            raise PoolClosed(f"pool {self.name!r} is closed")
        self._running += 1
        loop = asyncio.get_running_loop()
        job = self._executor.submit(self._timed, timing, fn, *args)
        # The slot is freed when the thread is, not when the awaiting task stops caring.
        job.add_done_callback(lambda _: self._finish_threadsafe(loop, timing))
        try:
            return await asyncio.wrap_future(job)
        except asyncio.CancelledError:
            self._counters.cancelled += 1
            raise

    async def _background_turn(self) -> None:
        """Until no job waits and, with more than one worker, one would stay free."""
        while not self._closed and (self._waiting or self._running >= max(1, self.workers - 1)):
            self._changed.clear()
            await self._changed.wait()

    @staticmethod
    def _timed(timing: _Timing, fn: Callable[..., T], *args: object) -> T:
        timing.started = time.perf_counter()
        try:
            return fn(*args)
        except BaseException:
            timing.failed = True
            raise
        finally:
            timing.ended = time.perf_counter()

    def _finish_threadsafe(self, loop: asyncio.AbstractEventLoop, timing: _Timing) -> None:
        try:
            loop.call_soon_threadsafe(self._finish, timing)
        except RuntimeError:
            # The loop is already closed: nobody is left to wait for this slot.
            pass

    def _finish(self, timing: _Timing) -> None:
        self._running -= 1
        self._slots.release()
        self._changed.set()
        if timing.started is None or timing.ended is None:
            return  # cancelled before a thread picked it up
        self._counters.completed += 1
        self._counters.failed += timing.failed
        self._counters.waits_ms.append((timing.started - timing.admitted) * 1000)
        self._counters.runs_ms.append((timing.ended - timing.started) * 1000)

    def stats(self) -> PoolStats:
        c = self._counters
        return PoolStats(
            name=self.name,
            workers=self.workers,
            queue_limit=self.queue_limit,
            running=self._running,
            waiting=self._waiting,
            submitted=c.submitted,
            completed=c.completed,
            failed=c.failed,
            rejected=c.rejected,
            cancelled=c.cancelled,
            window=len(c.runs_ms),
            wait_p50_ms=_percentile(c.waits_ms, 0.50),
            wait_p95_ms=_percentile(c.waits_ms, 0.95),
            run_p50_ms=_percentile(c.runs_ms, 0.50),
            run_p95_ms=_percentile(c.runs_ms, 0.95),
        )

    def close(self) -> None:
        """Refuse new jobs, drop queued ones; running inferences finish in their thread."""
        self._closed = True
        self._changed.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
