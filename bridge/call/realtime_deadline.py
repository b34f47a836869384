"""The deadline for the model's first answer to a turn: missed, the call falls back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bridge.call.tasks import CallTasks


class AnswerDeadline:
    def __init__(
        self, tasks: CallTasks, timeout_s: float, missed: Callable[[], Awaitable[None]]
    ) -> None:
        self._tasks = tasks
        self._timeout_s = timeout_s
        self._missed = missed
        self._watch: asyncio.Task[None] | None = None

    def start(self) -> None:
        """(Re)start the wait for the model's first answer to this turn."""
        self.stop()
        self._watch = self._tasks.own(self._wait(), "realtime-deadline")

    def stop(self) -> None:
        """The model answered (or the wait no longer matters)."""
        if self._watch is not None:
            if self._watch is not asyncio.current_task():
                self._watch.cancel()
            self._watch = None

    async def _wait(self) -> None:
        await asyncio.sleep(self._timeout_s)
        self._watch = None
        await self._missed()
