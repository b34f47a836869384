"""The shared inference pool: bounded waiting, slots freed on cancellation, stats."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from bridge.speech.pool import ModelWorkerPool, PoolClosed, PoolSaturated, background


class Gate:
    """Blocks worker threads until opened, and tells the test when a job has started."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self.started = threading.Semaphore(0)

    def job(self, value: int) -> int:
        self.started.release()
        self._open.wait()
        return value

    async def wait_started(self, jobs: int = 1) -> None:
        for _ in range(jobs):
            await asyncio.to_thread(self.started.acquire)

    def open(self) -> None:
        self._open.set()


@pytest.fixture
async def pool() -> AsyncIterator[ModelWorkerPool]:
    pool = ModelWorkerPool(workers=1, queue_limit=1, name="test")
    yield pool
    pool.close()


@pytest.fixture
def gate() -> Iterator[Gate]:
    gate = Gate()
    yield gate
    gate.open()  # never leave a worker thread blocked


async def _let_it_queue() -> None:
    """One loop turn: a just-created task runs up to its wait for a worker."""
    await asyncio.sleep(0)


async def test_run_returns_the_result_of_the_function_run_in_a_worker_thread(
    pool: ModelWorkerPool,
) -> None:
    thread_name = await pool.run(lambda: threading.current_thread().name)
    assert thread_name.startswith("test-worker")
    assert thread_name != threading.current_thread().name


async def test_exception_in_the_job_reaches_the_caller_and_is_counted_failed(
    pool: ModelWorkerPool,
) -> None:
    def boom() -> None:
        raise ValueError("bad audio")

    with pytest.raises(ValueError, match="bad audio"):
        await pool.run(boom)
    stats = pool.stats()
    assert (stats.completed, stats.failed) == (1, 1)


async def test_saturated_pool_refuses_at_once_beyond_the_queue_limit(
    pool: ModelWorkerPool, gate: Gate
) -> None:
    running = asyncio.create_task(pool.run(gate.job, 1))
    await gate.wait_started()
    waiting = asyncio.create_task(pool.run(gate.job, 2))
    await _let_it_queue()
    assert pool.stats().waiting == 1

    with pytest.raises(PoolSaturated):
        await pool.run(gate.job, 3)

    gate.open()
    assert await asyncio.gather(running, waiting) == [1, 2]
    stats = pool.stats()
    assert (stats.submitted, stats.completed, stats.rejected) == (2, 2, 1)


async def test_cancelling_a_waiting_job_frees_its_place_in_the_queue(
    pool: ModelWorkerPool, gate: Gate
) -> None:
    running = asyncio.create_task(pool.run(gate.job, 1))
    await gate.wait_started()
    waiting = asyncio.create_task(pool.run(gate.job, 2))
    await _let_it_queue()
    assert pool.stats().waiting == 1

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert pool.stats().waiting == 0
    replacement = asyncio.create_task(pool.run(gate.job, 3))  # would be refused if still held

    gate.open()
    assert await asyncio.gather(running, replacement) == [1, 3]
    assert pool.stats().cancelled == 1


async def test_cancelling_a_running_job_frees_the_worker_once_its_thread_is_done(
    pool: ModelWorkerPool, gate: Gate
) -> None:
    running = asyncio.create_task(pool.run(gate.job, 1))
    await gate.wait_started()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    # The thread is still busy with the job, so the slot is still taken.
    assert pool.stats().running == 1

    gate.open()
    assert await pool.run(lambda: 7) == 7
    stats = pool.stats()
    assert (stats.running, stats.cancelled, stats.completed) == (0, 1, 2)


async def test_stats_report_wait_and_run_percentiles_over_finished_jobs(
    pool: ModelWorkerPool,
) -> None:
    for value in range(5):
        assert await pool.run(sum, [value, 1]) == value + 1
    stats = pool.stats()
    assert (stats.submitted, stats.completed, stats.window) == (5, 5, 5)
    assert 0 <= stats.wait_p50_ms <= stats.wait_p95_ms
    assert 0 <= stats.run_p50_ms <= stats.run_p95_ms


async def test_closed_pool_refuses_new_jobs(pool: ModelWorkerPool) -> None:
    pool.close()
    with pytest.raises(PoolClosed):
        await pool.run(lambda: 1)


class Order:
    """Records the order in which jobs start in their worker threads."""

    def __init__(self, gate: Gate) -> None:
        self._gate = gate
        self.started: list[str] = []

    def job(self, name: str) -> str:
        self.started.append(name)
        return name

    def gated(self, name: str) -> str:
        self.started.append(name)
        self._gate.job(0)
        return name


async def _in_background(pool: ModelWorkerPool, fn: object, name: str) -> str:
    with background():
        return await pool.run(fn, name)  # type: ignore[arg-type]


async def test_background_work_waits_for_the_live_jobs_that_queued_after_it(
    pool: ModelWorkerPool, gate: Gate
) -> None:
    order = Order(gate)
    live = asyncio.create_task(pool.run(order.gated, "live 1"))
    await gate.wait_started()
    warming = asyncio.create_task(_in_background(pool, order.job, "warming"))
    await _let_it_queue()
    later = asyncio.create_task(pool.run(order.job, "live 2"))
    await _let_it_queue()
    gate.open()
    assert await asyncio.gather(live, warming, later) == ["live 1", "warming", "live 2"]
    assert order.started == ["live 1", "live 2", "warming"]


async def test_background_work_leaves_a_worker_free_for_a_live_job(gate: Gate) -> None:
    pool = ModelWorkerPool(workers=2, queue_limit=0, name="test")
    try:
        order = Order(gate)
        warming = [
            asyncio.create_task(_in_background(pool, order.gated, f"warming {n}")) for n in (1, 2)
        ]
        await gate.wait_started()
        await _let_it_queue()
        assert order.started == ["warming 1"]  # one at a time: the other worker stays free
        # A live job is neither refused nor kept waiting by the warming.
        assert await pool.run(order.job, "live") == "live"
        gate.open()
        await asyncio.gather(*warming)
        assert order.started == ["warming 1", "live", "warming 2"]
    finally:
        pool.close()
