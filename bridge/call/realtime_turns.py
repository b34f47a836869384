"""A realtime call's turn records and its history, kept equal to what the caller heard.

A turn opens when the caller's turn ends (or with the greeting, a key, a goodbye) and closes
when the next one opens, or once its answer has played and the caller's words are in (their
transcription runs beside the response and may come after it). Closing writes the record:
what the model said, what of it the caller heard (by the marks), tools, latency and usage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Literal

from bridge.agent.base import Message, ToolEvent
from bridge.agent.realtime.link import RealtimeUsage
from bridge.agent.realtime.pricing import estimate_realtime_cost
from bridge.call.audio_ledger import AudioLedger
from bridge.call.journal import CallJournal
from bridge.call.latency import TurnClock
from bridge.observability import metrics
from bridge.records import ToolCallRecord, TurnRecord, TurnUsage

log = logging.getLogger(__name__)

PROVIDER = "openai-realtime"
# How long a played answer waits for the transcript of the turn it answered before its
# record is written without it.
TRANSCRIPT_WAIT_S = 3.0


def turn_usage(model: str, usage: RealtimeUsage) -> TurnUsage:
    return TurnUsage(
        provider=PROVIDER,
        model=model,
        prompt_tokens=usage.input_text + usage.input_audio,
        completion_tokens=usage.output_text + usage.output_audio,
        audio_prompt_tokens=usage.input_audio,
        audio_completion_tokens=usage.output_audio,
        cost_usd=estimate_realtime_cost(model, usage),
    )


def log_call_usage(usage: TurnUsage) -> None:
    log.info(
        "realtime: %d audio + %d text tokens in, %d audio + %d text out, about $%.4f",
        usage.audio_prompt_tokens,
        usage.prompt_tokens - usage.audio_prompt_tokens,
        usage.audio_completion_tokens,
        usage.completion_tokens - usage.audio_completion_tokens,
        usage.cost_usd,
    )


@dataclass
class OpenTurn:
    """A caller turn (or the greeting) and everything that answered it, until the next one."""

    record: TurnRecord
    clock: TurnClock
    items: list[str] = field(default_factory=list)
    tool_messages: list[Message] = field(default_factory=list)
    # Set once the caller's words are in.
    transcribed: asyncio.Event = field(default_factory=asyncio.Event)


class RealtimeTurns:
    def __init__(self, journal: CallJournal, ledger: AudioLedger) -> None:
        self._journal = journal
        self._ledger = ledger
        self.history: list[Message] = []
        self.current: OpenTurn | None = None
        self._index = count(0)
        self._speech_start_ms: int | None = None  # the model's VAD: where the caller began

    def next_index(self) -> int:
        """The index a turn after this call's last one would get (a cascade taking over)."""
        return next(self._index)

    def open(
        self,
        source: Literal["speech", "dtmf", "greeting"] = "speech",
        caller: str = "",
        endpointing_ms: float | None = None,
        speech_ms: int = 0,
    ) -> OpenTurn:
        self.close()
        record = TurnRecord(
            index=next(self._index), source=source, caller=caller, speech_ms=speech_ms
        )
        turn = self.current = OpenTurn(record, TurnClock(endpointing_ms))
        if source != "speech":
            turn.transcribed.set()
        return turn

    def caller_speaking(self, audio_start_ms: int | None) -> None:
        self._speech_start_ms = audio_start_ms

    def caller_spoke_until(self, audio_end_ms: int | None, silence_ms: int) -> int:
        """How long the caller spoke, by the model's VAD (0 when it did not say): its end
        includes the silence window that ended the turn (as OpenAI documents it)."""
        start, self._speech_start_ms = self._speech_start_ms, None
        if start is None or audio_end_ms is None:
            return 0
        return max(0, audio_end_ms - silence_ms - start)

    def caller_words(self, text: str) -> None:
        turn = self.current or self.open()
        turn.record.caller = f"{turn.record.caller} {text}".strip()
        turn.transcribed.set()

    def agent_words(self, text: str) -> None:
        if self.current is not None:
            self.current.record.agent = f"{self.current.record.agent} {text}".strip()

    def audio_sent(self, item_id: str) -> None:
        turn = self.current
        if turn is not None:
            turn.clock.reached("agent")
            turn.clock.reached("first_media")
            if item_id not in turn.items:
                turn.items.append(item_id)

    def response_done(self, usage: TurnUsage) -> None:
        turn = self.current
        if turn is None:
            return
        if turn.record.usage is None:
            turn.record.usage = usage.model_copy()
        else:
            turn.record.usage.add(usage)
        turn.clock.reached("agent_done")

    def tool_ran(self, event: ToolEvent) -> None:
        turn = self.current or self.open("dtmf")
        turn.record.tools.append(
            ToolCallRecord(name=event.name, arguments=event.arguments, result=event.result)
        )
        turn.tool_messages.extend(event.messages)

    def interrupted(self) -> None:
        if self.current is not None:
            self.current.record.interrupted = True

    async def settle(self, turn: OpenTurn, played: Callable[[], Awaitable[None]]) -> None:
        """Write an answered turn once its audio has played and the caller's words are in."""
        await played()
        try:
            async with asyncio.timeout(TRANSCRIPT_WAIT_S):
                await turn.transcribed.wait()
        except TimeoutError:
            log.warning("no transcript of the caller's turn; its record has none")
        if self.current is turn:
            self.close()

    def close(self) -> None:
        """Write the open turn: what the caller heard of the model, and the history."""
        turn, self.current = self.current, None
        if turn is None:
            return
        record = turn.record
        items = [item for i in turn.items if (item := self._ledger.items.pop(i, None)) is not None]
        record.heard = " ".join(item.heard() for item in items if item.heard()).strip()
        record.interrupted = record.interrupted or any(item.cut for item in items)
        record.latency_ms = turn.clock.latency
        if record.caller:
            self.history.append(Message(role="caller", text=record.caller))
        self.history.extend(turn.tool_messages)
        if record.heard:
            self.history.append(
                Message(role="agent", text=record.heard, interrupted=record.interrupted)
            )
        if record.caller or record.agent or record.tools:
            self._journal.turn(record)
            metrics.turn_done(record)
