"""The agent seam: what a call hands an agent and what it gets back.

An agent reads the conversation (which the call session keeps equal to what the caller
heard), may run tools through a `ToolExecutor`, and streams `AgentEvent`s back. It knows
nothing of audio or Twilio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field


class CallerTurn(BaseModel):
    """One thing the caller said (transcribed) or keyed (DTMF digits)."""

    text: str
    source: Literal["speech", "dtmf"] = "speech"
    # The recogniser's belief in `text` (speech.base.Transcript): an unsure turn is checked
    # with the caller before the agent ends the call or transfers it.
    confidence: float = 1.0
    # The language the recogniser heard ("" when it does not say): a line set to `auto`
    # answers in it.
    language: str = ""


class ToolCall(BaseModel):
    """A tool call the agent made, as kept in the conversation."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Message(BaseModel):
    """One entry of the conversation history."""

    role: Literal["caller", "agent", "tool"]
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    # True when a barge-in cut this agent message: `text` is only what was heard.
    interrupted: bool = False


@dataclass(frozen=True)
class TextDelta:
    """A piece of reply text, in order; the session speaks it as it arrives."""

    text: str


@dataclass(frozen=True)
class ToolStarted:
    """A tool is about to run: the words streamed so far should be spoken now, not after it."""

    name: str


@dataclass(frozen=True)
class ToolEvent:
    """A tool that ran during the reply, with what it did to the call."""

    name: str
    arguments: dict[str, Any]
    result: dict[str, Any]
    # The call is being handed over (a REST update already went out): stop listening.
    transferred: bool = False
    # Hang up once everything said so far has played.
    ends_call: bool = False
    # Words the caller must hear, as written, before the hang-up (an opt-out's confirmation):
    # the agent speaks them after the tool, whatever the model would have said.
    last_words: str = ""
    # What the call's history gains from it: the agent's tool call and the tool's result,
    # in the agent's own words (the session appends them in order).
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True)
class Usage:
    """Tokens one reply used, and what they cost (US dollars, estimated)."""

    provider: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


AgentEvent = TextDelta | ToolStarted | ToolEvent | Usage


@dataclass
class CallContext:
    """What the agent may know about the call it serves."""

    call_sid: str
    caller: str  # the person on the line (on a call we placed, the number we called)
    called: str
    outbound: bool = False  # a call the bridge placed: the callee may opt out of calls


class Agent(Protocol):
    """Produces the agent's reply to the latest caller turn in `history`."""

    def respond(self, history: list[Message], turn: CallerTurn) -> AsyncIterator[AgentEvent]:
        """Stream the reply; `turn` is also the last caller message in `history`."""
        ...


@runtime_checkable
class BudgetedAgent(Protocol):
    """An agent that can hold its reply, retries included, to a deadline shared with others
    (a fallback chain's one turn budget)."""

    def respond_within(
        self, history: list[Message], turn: CallerTurn, deadline: float
    ) -> AsyncIterator[AgentEvent]:
        """As `respond`, giving up at `deadline` (time.monotonic())."""
        ...


class CallControl(Protocol):
    """What tools may do to the live call (the Twilio side implements it)."""

    async def transfer(
        self,
        target: str,
        caller_id: str | None,
        announcement: str,
        *,
        department: str = "",
        ring_timeout_s: int = 20,
        reason: str = "",
        warm: bool = False,
    ) -> None:
        """Hand the call to `target` (E.164 number or SIP URI), ringing at most
        `ring_timeout_s`; an unanswered transfer brings the caller back to the agent.
        `warm`: the caller holds while the human hears a brief and accepts.
        Raises CallControlError."""
        ...

    async def hang_up(self) -> None:
        """End the call; raises CallControlError."""
        ...


class CallControlError(RuntimeError):
    """Call control failed (the REST request was refused or never answered)."""
