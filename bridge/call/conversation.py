"""What a call has said and done so far: the history as heard, its turn records and its status.

The session decides what happens next; this is where every outcome lands. A turn's record is
written once its reply is over, with exactly what the caller heard of it (from the marks), and
the history gets the same words, so the agent never believes it said what was cut off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from itertools import count

from bridge.agent.base import CallControl, CallControlError, Message, ToolEvent
from bridge.call.journal import CallJournal
from bridge.call.playback import Heard
from bridge.observability import metrics
from bridge.records import CallStatus, ToolCallRecord, TurnRecord, TurnSource, TurnUsage

log = logging.getLogger(__name__)


class Conversation:
    def __init__(self, journal: CallJournal) -> None:
        self.journal = journal
        self.history: list[Message] = []
        self.status: CallStatus = "active"
        self.hangup_due = False  # hang up once what is playing has been heard
        self.usage = TurnUsage()  # the whole call's tokens and cost, for the closing log line
        self._turn_index = count(0)

    def carry_on(self, history: list[Message], turns_so_far: int) -> None:
        """Continue a conversation another session began."""
        self.history.extend(history)
        self._turn_index = count(turns_so_far)

    def new_turn(self, source: TurnSource, caller: str, speech_ms: int = 0) -> TurnRecord:
        return TurnRecord(
            index=next(self._turn_index), source=source, caller=caller, speech_ms=speech_ms
        )

    def caller_said(self, record: TurnRecord, text: str) -> None:
        record.caller = text
        self.history.append(Message(role="caller", text=text))

    def tool_ran(self, event: ToolEvent, record: TurnRecord) -> None:
        record.tools.append(
            ToolCallRecord(name=event.name, arguments=event.arguments, result=event.result)
        )
        metrics.tool_called(event.name, event.result)
        self.history.extend(event.messages)
        if event.transferred:
            self.status = "transferred"
        if event.ends_call:
            self.hangup_due = True

    def tool_turn(self, event: ToolEvent, source: TurnSource, caller: str) -> None:
        """A tool that ran outside any reply (a keyed transfer, one outliving its reply)."""
        record = self.new_turn(source, caller)
        self.tool_ran(event, record)
        self.journal.turn(record)
        metrics.turn_done(record)

    def turn_over(self, record: TurnRecord, heard: Heard) -> None:
        """The reply to `record` is over: keep what the caller heard of it, write the record."""
        if record.usage is not None:
            self.usage.add(record.usage)
        record.heard, record.interrupted = heard.text, heard.interrupted
        if record.agent or heard.text:
            self.history.append(
                Message(role="agent", text=heard.text, interrupted=heard.interrupted)
            )
        if record.caller or record.agent:
            self.journal.turn(record)
            metrics.turn_done(record)

    async def hang_up(
        self, played: Callable[[], Awaitable[None]], control: CallControl, grace_s: float
    ) -> None:
        """Hang up once the goodbye has played (by its mark), or after `grace_s`."""
        self.status = "completed"
        try:
            async with asyncio.timeout(grace_s):
                await played()
        except TimeoutError:
            log.warning("goodbye did not finish playing; hanging up anyway")
        try:
            await control.hang_up()
        except CallControlError:
            log.exception("hang-up failed")

    async def close(self, reason: str) -> CallStatus:
        """Write the end of the call's record (a call still active ended completed)."""
        status: CallStatus = self.status if self.status != "active" else "completed"
        await self.journal.close(status, reason)
        return status

    def spent(self) -> str:
        usage = self.usage
        return (
            f"LLM {usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens, "
            f"about ${usage.cost_usd:.4f}"
        )
