"""How the agent behaves on one dialplan: providers, models, budgets and fallbacks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bridge.dialplan.realtime_settings import RealtimeSettings

ProviderName = Literal["openai", "anthropic", "rules"]


class FallbackSettings(BaseModel):
    """What the caller hears when every provider failed a turn, tier by tier per call."""

    model_config = ConfigDict(extra="forbid")

    repeat: str = "Sorry, I didn't catch that. Could you say it again?"
    hold: str = "I'm sorry, I'm having trouble right now. Please hold on a moment."
    # Last tier: transfer here (a dialplan department) if set, else promise a callback.
    human_department: str | None = None
    transfer_notice: str = "Let me connect you with someone who can help."
    callback_promise: str = (
        "I'm sorry, I can't help right now. We will call you back as soon as we can."
    )


class AgentSettings(BaseModel):
    """The `agent:` block of a dialplan; every field has a sensible default."""

    model_config = ConfigDict(extra="forbid")

    # "cascaded": speech-to-text, the provider chain below, text-to-speech. "realtime": one
    # speech-to-speech session per call (`realtime:`), with the cascade as its fallback.
    mode: Literal["cascaded", "realtime"] = "cascaded"
    realtime: RealtimeSettings = Field(default_factory=RealtimeSettings)

    # Tried in order; providers without a key (or base URL) are skipped.
    providers: list[ProviderName] = Field(
        default_factory=lambda: ["openai", "anthropic", "rules"], min_length=1
    )
    openai_model: str | None = None  # None: OPENAI_MODEL
    anthropic_model: str | None = None  # None: ANTHROPIC_MODEL
    temperature: float | None = Field(default=None, ge=0, le=2)  # None: LLM_TEMPERATURE
    max_tokens: int | None = Field(default=None, ge=16, le=8192)  # None: LLM_MAX_TOKENS

    max_tool_rounds: int = Field(default=3, ge=1, le=10)
    # A tool still running after this long gets a spoken filler, so there is no dead air.
    tool_filler_after_ms: int = Field(default=1200, ge=0, le=30000)
    filler_phrases: list[str] = Field(
        default_factory=lambda: ["One moment please.", "Just a second, I'm checking."],
        min_length=1,
    )

    history_turns: int = Field(default=12, ge=1, le=200)  # caller turns kept in the window
    prompt_token_budget: int = Field(default=3000, ge=200)  # per request, estimated
    call_token_budget: int = Field(default=60000, ge=1000)  # per call; then the rules agent

    # One turn's LLM work (retries and failover included) should end within this.
    turn_latency_budget_ms: int = Field(default=8000, ge=500, le=60000)
    request_timeout_ms: int = Field(default=4000, ge=200, le=60000)
    max_retries: int = Field(default=2, ge=0, le=5)
    # A provider that has not streamed its first token (or tool call) this long after the
    # request is abandoned for the next in the chain, without a retry: on a phone line a
    # slow start is as bad as a failure. Per provider in `first_token_ms_by_provider`.
    first_token_ms: int = Field(default=2000, ge=100, le=60000)
    first_token_ms_by_provider: dict[ProviderName, int] = Field(default_factory=dict)

    def first_token_s(self, provider: str) -> float:
        by_provider: dict[str, int] = dict(self.first_token_ms_by_provider)
        return by_provider.get(provider, self.first_token_ms) / 1000

    fallback: FallbackSettings = Field(default_factory=FallbackSettings)
