"""The provider chain of one call, and what the caller hears when every provider fails.

Providers are tried in the dialplan's order within one turn budget. A provider that fails
after some of its reply was already spoken hands over what was said: the next one sees it
in the conversation, and any reply that starts by repeating it is trimmed, so the caller
never hears the same start twice. When all fail, the call gets tiered spoken fallbacks
(repeat, hold, then a human or a promised callback); the call is never hung up by them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

from bridge.agent.base import (
    Agent,
    AgentEvent,
    BudgetedAgent,
    CallerTurn,
    Message,
    TextDelta,
    ToolEvent,
)
from bridge.agent.llm.errors import classify
from bridge.agent.tools import ToolExecutor
from bridge.dialplan.models import Dialplan
from bridge.observability import metrics

log = logging.getLogger(__name__)


class RepeatTrimmer:
    """Drops the start of a new reply while it repeats `spoken` (case and spacing ignored)."""

    def __init__(self, spoken: str) -> None:
        self._spoken = _normalise(spoken)
        self._buffer = ""
        self._passed = not self._spoken

    def feed(self, text: str) -> str:
        """What of `text` may be spoken now ("" while it may still be a repeat)."""
        if self._passed:
            return text
        self._buffer += text
        heard = _normalise(self._buffer)
        if self._spoken.startswith(heard):
            return ""
        self._passed = True
        if heard.startswith(self._spoken):
            return self._buffer[_raw_index_after(self._buffer, len(self._spoken)) :]
        return self._buffer


class FallbackAgent:
    """Implements the Agent protocol over the dialplan's chain of agents, for one call."""

    def __init__(self, agents: list[Agent], dialplan: Dialplan, tools: ToolExecutor) -> None:
        self._agents = agents
        self._dialplan = dialplan
        self._settings = dialplan.agent
        self._tools = tools
        self._failed_turns = 0

    async def respond(self, history: list[Message], turn: CallerTurn) -> AsyncIterator[AgentEvent]:
        deadline = time.monotonic() + self._settings.turn_latency_budget_ms / 1000
        spoken = ""
        carried: list[Message] = []  # tool calls and results of a failed agent's turn
        for agent in self._agents:
            said = [Message(role="agent", text=spoken)] if spoken else []
            attempt = [*history, *carried, *said]
            trimmer = RepeatTrimmer(spoken)
            stream = (
                agent.respond_within(attempt, turn, deadline)
                if isinstance(agent, BudgetedAgent)
                else agent.respond(attempt, turn)
            )
            try:
                async for event in stream:
                    if isinstance(event, TextDelta):
                        text = trimmer.feed(event.text)
                        if text:
                            spoken += text
                            yield TextDelta(text)
                        continue
                    if isinstance(event, ToolEvent):
                        carried += event.messages
                    yield event
            except Exception as exc:  # any fault of one agent: the next one answers
                log.warning("agent %s failed this turn: %s", _name(agent), exc)
                metrics.provider_error(_name(agent), classify(exc).kind)
                continue
            self._failed_turns = 0
            return
        self._failed_turns += 1
        async for event in self._tiered_fallback(self._failed_turns):
            yield event

    async def _tiered_fallback(self, tier: int) -> AsyncIterator[AgentEvent]:
        fallback = self._settings.fallback
        log.error("every agent failed (tier %d fallback)", tier)
        if tier == 1:
            yield TextDelta(fallback.repeat)
            return
        if tier == 2:
            yield TextDelta(fallback.hold)
            return
        department = fallback.human_department
        if department and department in self._dialplan.departments:
            yield TextDelta(fallback.transfer_notice)
            event = await self._tools.run(
                "transfer_call", {"department": department}, call_id=f"fallback-{tier}"
            )
            yield event
            if event.transferred:
                return
        yield TextDelta(fallback.callback_promise)


def _name(agent: Agent) -> str:
    return getattr(agent, "name", type(agent).__name__)


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _raw_index_after(raw: str, normalised_length: int) -> int:
    """The index in `raw` just past its first `normalised_length` normalised characters."""
    count = 0
    in_space = True  # leading whitespace does not count
    for index, char in enumerate(raw):
        if count >= normalised_length:
            return index
        if char.isspace():
            if not in_space:
                count += 1
                in_space = True
        else:
            count += 1
            in_space = False
    return len(raw)
