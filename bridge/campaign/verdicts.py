"""Twilio's answering-machine verdicts on the calls the bridge placed, acted on mid-call.

Twilio posts each verdict to whichever instance its load balancer picks; that instance keeps
it in the shared store (`answered_by`). The instance holding the call's stream acts on it:
at once when the callback came to it, else when its relay loop finds it in the store (it
looks a few times a second, only for its own live outbound calls still awaiting one), or
when the stream starts, for a verdict that came before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from twilio.rest import Client

from bridge.agent.base import CallControlError
from bridge.dialplan.outbound import OutboundSettings
from bridge.observability import metrics
from bridge.store.base import CallStore
from bridge.twilio.outbound import verdict
from bridge.twilio.rest import TwilioCallControl

log = logging.getLogger(__name__)

POLL_S = 0.25  # a verdict is acted on at most this much later than on its own instance


class LiveOutboundCall(Protocol):
    async def end_politely(self, goodbye: str) -> None:
        """Say `goodbye` over whatever is playing, then hang up."""
        ...


class AmdVerdicts:
    def __init__(
        self,
        store: CallStore,
        twilio: Client,
        live: Callable[[str], LiveOutboundCall | None],
        *,
        poll_s: float = POLL_S,
    ) -> None:
        self._store = store
        self._twilio = twilio
        self._live = live  # the session holding a call's stream on this instance, if any
        self._poll_s = poll_s
        # This instance's live outbound calls (their settings, rendered for the call), and
        # those whose verdict is still to be acted on.
        self._outbound: dict[str, OutboundSettings] = {}
        self._awaiting: set[str] = set()

    async def stream_started(self, call_sid: str, outbound: OutboundSettings) -> None:
        """An outbound call's stream started here; a verdict already stored is acted on."""
        self._outbound[call_sid] = outbound
        self._awaiting.add(call_sid)
        for sid, answered_by in (await self._store.answered_by_of([call_sid])).items():
            await self._act_once(sid, answered_by)

    def closed(self, call_sid: str) -> None:
        self._outbound.pop(call_sid, None)
        self._awaiting.discard(call_sid)

    async def received(self, call_sid: str, answered_by: str) -> None:
        """The AMD callback, on this instance: kept for all, and acted on if the call is ours."""
        await self._store.set_answered_by(call_sid, answered_by)
        await self._act_once(call_sid, answered_by)

    async def run(self) -> None:
        """Look in the store forever (cancel to stop); a failing look is tried again."""
        while True:
            try:
                await self.step()
            except Exception:
                log.exception("looking for AMD verdicts failed")
            await asyncio.sleep(self._poll_s)

    async def step(self) -> None:
        if not self._awaiting:
            return
        for call_sid, answered_by in (
            await self._store.answered_by_of(list(self._awaiting))
        ).items():
            await self._act_once(call_sid, answered_by)

    async def _act_once(self, call_sid: str, answered_by: str) -> None:
        session = self._live(call_sid)
        outbound = self._outbound.get(call_sid)
        if session is None or outbound is None or call_sid not in self._awaiting:
            return
        log.info("call %s answered by %s", call_sid, answered_by)
        kind = verdict(answered_by)
        if kind == "wait":
            return
        self._awaiting.discard(call_sid)
        # A person goes on talking to the agent; a machine, past its beep, gets the
        # voicemail message, then the hang-up; a fax, the hang-up.
        if kind == "person":
            await self._store.set_outcome(call_sid, "human")
        elif kind == "machine" and outbound.voicemail_message:
            await self._store.set_outcome(call_sid, "voicemail_left")
            await session.end_politely(outbound.voicemail_message)
        else:
            await self._store.set_outcome(call_sid, "fax" if kind == "fax" else "machine")
            control = TwilioCallControl(self._twilio, call_sid, on_action=metrics.twilio_action)
            try:
                await control.hang_up()
            except CallControlError:
                log.exception("hang-up of call %s answered by %s failed", call_sid, answered_by)
