"""The LLM agent: one provider, streamed replies, and the tool loop.

A turn is one or more model rounds: each round streams text (passed on at once) and tool
calls; the calls run through the call's `ToolExecutor`, their results go back to the model,
and it is called again, up to `max_tool_rounds`. Faults surface as `LlmError` once retries
within the turn's budget are spent; the fallback chain decides what happens next.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bridge.agent.base import (
    AgentEvent,
    CallContext,
    CallerTurn,
    Message,
    TextDelta,
    ToolCall,
    ToolEvent,
    ToolStarted,
    Usage,
)
from bridge.agent.conversation import estimate_tokens, system_prompt, window
from bridge.agent.llm.base import (
    FirstTokenLate,
    LlmError,
    LlmProvider,
    LlmRequest,
    TextChunk,
    TokenUsage,
    ToolCallRequest,
    ToolSchema,
)
from bridge.agent.llm.pricing import estimate_cost
from bridge.agent.tools import ToolExecutor, ToolSpec
from bridge.dialplan.agent_settings import AgentSettings
from bridge.dialplan.models import Dialplan
from bridge.speech.base import UNSURE_BELOW

log = logging.getLogger(__name__)

_BACKOFF_BASE_S = 0.25
_MAX_BACKOFF_S = 4.0
T = TypeVar("T")


@dataclass
class _Round:
    """What one model call produced."""

    lead: str = ""  # put before the round's first words
    text: str = ""
    calls: list[ToolCallRequest] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_reported: bool = False


# Added to a caller turn the recogniser was unsure of.
UNSURE_NOTE = (
    "[speech recognition was unsure of these words: if they ask to end the call or to be "
    "transferred, ask the caller to confirm first]"
)


class LlmAgent:
    """Implements the Agent protocol on one LLM provider. One instance per call."""

    def __init__(
        self,
        provider: LlmProvider,
        tools: ToolExecutor,
        specs: list[ToolSpec],
        dialplan: Dialplan,
        context: CallContext,
        *,
        model: str,
        temperature: float,
        max_tokens: int,
    ) -> None:
        self.provider = provider
        self._tools = tools
        self._schemas = [ToolSchema(s.name, s.description, s.json_schema()) for s in specs]
        self._settings: AgentSettings = dialplan.agent
        self._system = system_prompt(dialplan, context)
        self._model = model
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._fillers = itertools.cycle(self._settings.filler_phrases)
        self._call_tokens = 0

    @property
    def name(self) -> str:
        return self.provider.name

    def respond(self, history: list[Message], turn: CallerTurn) -> AsyncIterator[AgentEvent]:
        budget_s = self._settings.turn_latency_budget_ms / 1000
        return self.respond_within(history, turn, time.monotonic() + budget_s)

    async def respond_within(
        self, history: list[Message], turn: CallerTurn, deadline: float
    ) -> AsyncIterator[AgentEvent]:
        """The reply, with retries only while `deadline` (time.monotonic()) allows."""
        if self._call_tokens >= self._settings.call_token_budget:
            raise LlmError("bad_request", "this call's token budget is spent")
        conversation = window(
            history, self._settings.history_turns, self._prompt_budget_for_history()
        )
        if turn.confidence < UNSURE_BELOW and conversation and conversation[-1].role == "caller":
            # The recogniser doubts these words: the model checks before it acts on them.
            last = conversation[-1]
            conversation[-1] = last.model_copy(update={"text": f"{last.text} {UNSURE_NOTE}"})
        prompt_tokens = completion_tokens = 0
        spoken = ""
        for round_index in range(self._settings.max_tool_rounds + 1):
            # The last round offers no tools, so the turn always ends in words.
            offer_tools = round_index < self._settings.max_tool_rounds
            # Words of the previous round end with no space: keep the rounds apart.
            result = _Round(lead=" " if spoken and not spoken[-1].isspace() else "")
            async for event in self._stream_round(conversation, offer_tools, deadline, result):
                if isinstance(event, TextDelta):
                    spoken += event.text
                yield event
            if not result.usage_reported:
                result.prompt_tokens = sum(estimate_tokens(m.text) for m in conversation)
                result.completion_tokens = estimate_tokens(result.text)
            prompt_tokens += result.prompt_tokens
            completion_tokens += result.completion_tokens
            if not result.calls:
                break
            conversation = [*conversation, self._agent_message(result)]
            for call in result.calls:
                tool_event: ToolEvent | None = None
                async for event in self._run_tool(call):
                    yield event
                    if isinstance(event, ToolEvent):
                        tool_event = event
                        conversation.append(event.messages[-1])
                if tool_event is not None and (tool_event.transferred or tool_event.ends_call):
                    # The call is leaving us: no more words after the handover but the
                    # tool's own (an opt-out's confirmation, as written).
                    if tool_event.last_words:
                        lead = " " if spoken and not spoken[-1].isspace() else ""
                        yield TextDelta(lead + tool_event.last_words)
                    yield self._usage(prompt_tokens, completion_tokens)
                    return
        yield self._usage(prompt_tokens, completion_tokens)

    def _prompt_budget_for_history(self) -> int:
        return max(200, self._settings.prompt_token_budget - estimate_tokens(self._system))

    async def _stream_round(
        self, conversation: list[Message], offer_tools: bool, deadline: float, result: _Round
    ) -> AsyncIterator[AgentEvent]:
        """One model call, retried while nothing was yielded yet and the budget allows."""
        for attempt in itertools.count():
            remaining = deadline - time.monotonic()
            request = LlmRequest(
                system=self._system,
                messages=conversation,
                tools=self._schemas if offer_tools else [],
                model=self._model,
                temperature=self._temperature,
                max_tokens=self._max_tokens,
                timeout_s=self._timeout_s(remaining),
            )
            first_token_s = self._settings.first_token_s(self.name)
            try:
                async for event in _first_within(
                    self.provider.stream(request), first_token_s, self.name
                ):
                    if isinstance(event, TextChunk):
                        text = event.text if result.text else result.lead + event.text
                        result.text += event.text
                        yield TextDelta(text)
                    elif isinstance(event, ToolCallRequest):
                        result.calls.append(event)
                    elif isinstance(event, TokenUsage):
                        result.prompt_tokens = event.prompt_tokens
                        result.completion_tokens = event.completion_tokens
                        result.usage_reported = True
                self._call_tokens += result.prompt_tokens + result.completion_tokens
                return
            except LlmError as error:
                # Text already spoken cannot be taken back: a retry would repeat it.
                if result.text or result.calls or not self._may_retry(error, attempt, deadline):
                    raise
                delay = self._backoff(error, attempt)
                log.info("%s: %s; retry %d in %.2fs", self.name, error, attempt + 1, delay)
                await asyncio.sleep(delay)

    def _timeout_s(self, remaining_s: float) -> float:
        # A provider reached late in the turn (after a failover) still gets a fair try.
        limit = self._settings.request_timeout_ms / 1000
        return max(min(limit, remaining_s), min(limit, 1.0))

    def _may_retry(self, error: LlmError, attempt: int, deadline: float) -> bool:
        if not error.retryable or attempt >= self._settings.max_retries:
            return False
        return time.monotonic() + self._backoff(error, attempt) < deadline

    @staticmethod
    def _backoff(error: LlmError, attempt: int) -> float:
        if error.retry_after_s is not None:
            return error.retry_after_s
        return min(_MAX_BACKOFF_S, _BACKOFF_BASE_S * 2**attempt)

    async def _run_tool(self, call: ToolCallRequest) -> AsyncIterator[AgentEvent]:
        """Run one tool call; speak a filler if it takes longer than the dialplan allows."""
        arguments = _parse_arguments(call.arguments)
        if isinstance(arguments, str):
            yield _rejected(call, arguments)
            return
        yield ToolStarted(call.name)
        task = asyncio.create_task(self._tools.run(call.name, arguments, call_id=call.id))
        try:
            done, _ = await asyncio.wait({task}, timeout=self._settings.tool_filler_after_ms / 1000)
            if not done:
                yield TextDelta(" " + next(self._fillers) + " ")
            yield await task
        finally:
            task.cancel()

    @staticmethod
    def _agent_message(result: _Round) -> Message:
        calls = []
        for call in result.calls:
            arguments = _parse_arguments(call.arguments)
            # A rejected call stays in, without arguments, so the model reads why it failed.
            kept = arguments if isinstance(arguments, dict) else {}
            calls.append(ToolCall(id=call.id, name=call.name, arguments=kept))
        return Message(role="agent", text=result.text, tool_calls=calls)

    def _usage(self, prompt_tokens: int, completion_tokens: int) -> Usage:
        return Usage(
            provider=self.name,
            model=self._model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=estimate_cost(self._model, prompt_tokens, completion_tokens),
        )


async def _first_within(
    stream: AsyncIterator[T], seconds: float, provider: str
) -> AsyncIterator[T]:
    """`stream`, abandoned with `FirstTokenLate` when its first event takes over `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            first = await anext(stream)
    except StopAsyncIteration:
        return
    except TimeoutError:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
        raise FirstTokenLate(provider, seconds) from None
    yield first
    async for event in stream:
        yield event


def _parse_arguments(raw: str) -> dict[str, Any] | str:
    """The call's arguments, or what is wrong with them."""
    try:
        parsed = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        return f"arguments are not valid JSON: {exc}"
    return parsed if isinstance(parsed, dict) else "arguments must be a JSON object"


def _rejected(call: ToolCallRequest, problem: str) -> ToolEvent:
    """A call the model got wrong: it hears why, and the call is untouched."""
    result = {"error": problem}
    messages = (
        Message(role="agent", tool_calls=[ToolCall(id=call.id, name=call.name)]),
        Message(role="tool", tool_call_id=call.id, text=json.dumps(result)),
    )
    return ToolEvent(call.name, {}, result, messages=messages)
