"""AMD verdicts that reached another instance, handed to the one holding the call's stream.

Twilio posts the answering-machine verdict to whichever instance its load balancer picks;
that instance keeps it in the shared store (`answered_by`). Every instance looks there,
a few times a second, for verdicts on the outbound calls whose stream it holds and has not
acted on yet, and acts on them as if the callback had come to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection

from bridge.store.base import CallStore

log = logging.getLogger(__name__)

POLL_S = 0.25  # a verdict is acted on at most this much later than on its own instance


class VerdictRelay:
    def __init__(
        self,
        store: CallStore,
        waiting: Callable[[], Collection[str]],
        act: Callable[[str, str], Awaitable[None]],
        *,
        poll_s: float = POLL_S,
    ) -> None:
        self._store = store
        self._waiting = waiting  # this instance's live outbound calls with no verdict acted on
        self._act = act
        self._poll_s = poll_s

    async def run(self) -> None:
        """Look forever (cancel to stop); a failing look is logged and tried again."""
        while True:
            try:
                await self.step()
            except Exception:
                log.exception("looking for AMD verdicts failed")
            await asyncio.sleep(self._poll_s)

    async def step(self) -> None:
        waiting = list(self._waiting())
        if not waiting:
            return
        for call_sid, answered_by in (await self._store.answered_by_of(waiting)).items():
            await self._act(call_sid, answered_by)
