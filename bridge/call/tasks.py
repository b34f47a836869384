"""The tasks one call owns: named after the call, failures logged, all cancelled at teardown.
(The console's test calls are owned the same way, named after the console.)

Kept apart from the session so that the parts it hands `own` to (speculative STT) hold a
reference to this small owner, not to the session: a finished call is then freed at once by
reference counting instead of waiting for a full garbage collection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class CallTasks:
    def __init__(self, owner: str) -> None:
        self._owner = owner  # a CallSid (or "console"): tasks are named `<name>-<owner>`
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        """Tasks still running."""
        return len(self._tasks)

    def own(
        self, coro: Coroutine[object, object, T], name: str, *, awaited: bool = False
    ) -> asyncio.Task[T]:
        """`awaited`: whoever takes the task's result reports its failure (a speculative
        transcript's is the turn's), so it is not logged here a second time."""
        task = asyncio.create_task(coro, name=f"{name}-{self._owner}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_retrieve_failure if awaited else _log_failure)
        return task

    async def cancel_all(self) -> None:
        """Cancel every task still running and wait until each has finished."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed", task.get_name(), exc_info=task.exception())


def _retrieve_failure(task: asyncio.Task[Any]) -> None:
    # A failed task thrown away unawaited must not be reported by asyncio at exit either.
    if not task.cancelled():
        task.exception()
