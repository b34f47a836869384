"""Call records: the shape every store keeps and every report prints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

CallStatus = Literal["active", "completed", "transferred", "failed", "interrupted"]
CallDirection = Literal["inbound", "outbound"]
# How an outbound call ended for its purpose ("" while not known, and for inbound calls).
OUTCOMES = (
    "human", "voicemail_left", "machine", "fax", "no_answer", "busy", "failed", "canceled",
    "opted_out",
)  # fmt: skip


def utcnow() -> datetime:
    return datetime.now(UTC)


class ToolCallRecord(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] = Field(default_factory=dict)


class TurnLatency(BaseModel):
    """Milliseconds (None: not reached).

    `endpointing` runs from the end of the caller's speech to the end-of-turn decision (the
    silence window); every other figure runs from that decision. So end of speech to first
    agent audio on the wire is `endpointing + first_media`.
    """

    endpointing: float | None = None
    stt: float | None = None
    agent: float | None = None  # the agent's first words
    agent_done: float | None = None  # the agent's whole reply generated
    tts_first_audio: float | None = None
    first_media: float | None = None


class TurnUsage(BaseModel):
    provider: str = ""
    model: str = ""
    prompt_tokens: int = 0  # all of them, audio included
    completion_tokens: int = 0
    # Of those, the audio tokens (a speech-to-speech model hears and speaks in tokens).
    audio_prompt_tokens: int = 0
    audio_completion_tokens: int = 0
    cost_usd: float = 0.0

    def summary(self) -> str:
        """One line for people: who, tokens in and out (audio among them), estimated cost."""
        tokens = f"{self.prompt_tokens}+{self.completion_tokens} tokens"
        if self.audio_prompt_tokens or self.audio_completion_tokens:
            tokens += f" ({self.audio_prompt_tokens}+{self.audio_completion_tokens} audio)"
        return f"{self.provider} {self.model} {tokens} ${self.cost_usd:.4f}".strip()

    def add(self, other: TurnUsage) -> None:
        """Count `other` in (the call's running total)."""
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.audio_prompt_tokens += other.audio_prompt_tokens
        self.audio_completion_tokens += other.audio_completion_tokens
        self.cost_usd += other.cost_usd


TurnSource = Literal["speech", "dtmf", "greeting"]


class TurnRecord(BaseModel):
    index: int
    source: TurnSource = "speech"
    caller: str = ""
    agent: str = ""
    heard: str = ""
    interrupted: bool = False
    # Times the reply came back after a false interruption (a cough, "mm-hmm" over it).
    resumed: int = 0
    tools: list[ToolCallRecord] = Field(default_factory=list)
    latency_ms: TurnLatency = Field(default_factory=TurnLatency)
    usage: TurnUsage | None = None
    started_at: datetime = Field(default_factory=utcnow)
    speech_ms: int = 0  # how long the caller spoke in this turn (pauses inside included)


class TwilioAction(BaseModel):
    """A REST request the bridge made to Twilio for this call."""

    method: str
    path: str
    params: dict[str, str] = Field(default_factory=dict)
    ok: bool = True
    error: str = ""
    at: datetime = Field(default_factory=utcnow)


LegKind = Literal["dial", "warm", "agent"]


class CallLeg(BaseModel):
    """One stretch of the call after the first: a `<Dial>` to a department and how it ended
    (Twilio's DialCallStatus), a warm transfer's human leg (what came of it), or the caller
    back with the agent on a new media stream."""

    kind: LegKind
    department: str = ""
    target: str = ""
    # dial: completed, answered, busy, no-answer, failed, canceled; warm: accepted, declined,
    # machine, no-answer, busy, failed, canceled, then completed once an accepted leg ends.
    status: str = ""
    sid: str = ""  # dial/warm: the human leg's CallSid; agent: the new stream's StreamSid
    duration_s: int = 0
    at: datetime = Field(default_factory=utcnow)


class Writing(BaseModel):
    """LLM work done for a call outside its conversation, and what it cost: a warm
    transfer's brief for the human (the notes after the call are on `WrapUp`)."""

    purpose: Literal["transfer brief"]
    usage: TurnUsage
    at: datetime = Field(default_factory=utcnow)


class WrapUp(BaseModel):
    """What the post-call step made of a call (its dialplan's `after_call`)."""

    summary: str = ""
    disposition: str = ""  # one of the dialplan's dispositions
    fields: dict[str, Any] = Field(default_factory=dict)  # per the dialplan's JSON Schema
    by: Literal["llm", "rules"] = "rules"
    # Why the LLM's notes were refused (the rules' stand instead), or what the fields lack.
    problems: list[str] = Field(default_factory=list)
    usage: TurnUsage | None = None  # the LLM's tokens and cost for writing it


class CallRecord(BaseModel):
    call_sid: str
    stream_sid: str = ""
    from_number: str = ""
    to_number: str = ""
    dialplan: str = ""
    status: CallStatus = "active"
    end_reason: str = ""
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    # The bridge process holding the call's media socket ("" until one does).
    instance_id: str = ""
    direction: CallDirection = "inbound"
    outcome: str = ""  # one of OUTCOMES, for outbound calls
    answered_by: str = ""  # Twilio's answering-machine verdict (AnsweredBy)
    turns: list[TurnRecord] = Field(default_factory=list)
    twilio_actions: list[TwilioAction] = Field(default_factory=list)
    legs: list[CallLeg] = Field(default_factory=list)
    writings: list[Writing] = Field(default_factory=list)
    wrap_up: WrapUp | None = None  # once the call is over
    # How long the caller heard the agent: its audio on the stream's clock, less what a
    # barge-in's clear cut (every stream of the call together).
    agent_speech_ms: int = 0


class CallerMessage(BaseModel):
    """A message or call-back request the agent took (its `take_message` tool)."""

    kind: Literal["message", "callback"]
    message: str
    department: str | None = None
    name: str | None = None
    callback_number: str | None = None
    callback_when: str | None = None
    at: datetime


def messages_of(record: CallRecord) -> list[CallerMessage]:
    """The messages taken on the call, in order (from the turns' tool calls that succeeded)."""
    return [
        CallerMessage.model_validate(
            {
                **tool.arguments,
                "callback_number": tool.result.get("callback_number"),
                "at": turn.started_at,
            }
        )
        for turn in record.turns
        for tool in turn.tools
        if tool.name == "take_message" and tool.result.get("ok")
    ]


class CallUsage(BaseModel):
    """What a call used: its length, who spoke how long, and the LLM's tokens and dollars
    (every turn, the briefs written for transfers, and the notes written after it)."""

    call_seconds: float = 0.0
    caller_speech_seconds: float = 0.0
    agent_speech_seconds: float = 0.0
    llm_prompt_tokens: int = 0
    llm_completion_tokens: int = 0
    llm_cost_usd: float = 0.0

    @property
    def call_minutes(self) -> float:
        return self.call_seconds / 60


def usage_of(record: CallRecord) -> CallUsage:
    """The call's usage from its record; a live call counts up to now."""
    total = TurnUsage()
    for turn in record.turns:
        if turn.usage is not None:
            total.add(turn.usage)
    for writing in record.writings:
        total.add(writing.usage)
    if record.wrap_up is not None and record.wrap_up.usage is not None:
        total.add(record.wrap_up.usage)
    ended = record.ended_at or utcnow()
    return CallUsage(
        call_seconds=round(max(0.0, (ended - record.started_at).total_seconds()), 1),
        caller_speech_seconds=round(sum(turn.speech_ms for turn in record.turns) / 1000, 1),
        agent_speech_seconds=round(record.agent_speech_ms / 1000, 1),
        llm_prompt_tokens=total.prompt_tokens,
        llm_completion_tokens=total.completion_tokens,
        llm_cost_usd=round(total.cost_usd, 6),
    )


class OutboundRequest(BaseModel):
    """A call the bridge asked Twilio to place; its id rides on the voice webhook's URL."""

    request_id: str
    dialplan: str
    to_number: str
    from_number: str
    variables: dict[str, str] = Field(default_factory=dict)
    call_sid: str = ""  # Twilio's, once `calls.create` answered
    created_at: datetime = Field(default_factory=utcnow)
