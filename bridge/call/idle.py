"""The caller who goes quiet: after `idle.after_ms` of silence a reprompt, and after
`idle.reprompts` of them the goodbye (the session hangs up once it has been heard)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bridge.call.interruptions import OwnTask
from bridge.dialplan.models import IdleSettings


class IdleWatch:
    def __init__(
        self,
        settings: IdleSettings,
        goodbye: str,
        own: OwnTask,
    ) -> None:
        self._settings = settings
        self._goodbye = goodbye
        self._own = own
        self._task: asyncio.Task[None] | None = None
        self._reprompts = 0  # said since the caller last said something

    def start(self, prompt: Callable[[str, bool], bool]) -> None:
        """The line went quiet: the caller's silence starts to count (afresh). Once it is long,
        `prompt(text, last)` says it if the line is still quiet (True); after the last one the
        call should end."""
        self.stop()
        if self._settings.after_ms:
            # Only the task holds `prompt` (the session's): no cycle outlives the call.
            self._task = self._own(self._count(prompt), "idle")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None  # a cancelled task keeps frames alive: let go of it

    def caller_spoke(self) -> None:
        self._reprompts = 0

    async def _count(self, prompt: Callable[[str, bool], bool]) -> None:
        await asyncio.sleep(self._settings.after_ms / 1000)
        self._task = None
        last = self._reprompts >= self._settings.reprompts
        if prompt(self._goodbye if last else self._settings.reprompt, last):
            self._reprompts += 1
