"""One streaming interface for every LLM provider, and one error type for all their faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bridge.agent.base import Message

ErrorKind = Literal["auth", "rate_limit", "timeout", "server", "bad_request", "network"]
RETRYABLE: frozenset[ErrorKind] = frozenset({"rate_limit", "timeout", "server", "network"})


class LlmError(Exception):
    """A provider request failed; `kind` says whether trying again can help."""

    def __init__(
        self, kind: ErrorKind, message: str, *, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: ErrorKind = kind
        self.retry_after_s = retry_after_s

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


class FirstTokenLate(LlmError):
    """The provider streamed nothing within its first-token deadline: try the next one."""

    def __init__(self, provider: str, seconds: float) -> None:
        super().__init__("timeout", f"{provider} sent no first token within {seconds:.1f}s")

    @property
    def retryable(self) -> bool:
        return False


@dataclass(frozen=True)
class ToolSchema:
    """A tool as the model sees it: name, description, JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class LlmRequest:
    """Everything one model call needs; `messages` is the windowed conversation."""

    system: str
    messages: list[Message]
    tools: list[ToolSchema] = field(default_factory=list)
    model: str = ""
    temperature: float = 0.3
    max_tokens: int = 300
    timeout_s: float = 4.0


@dataclass(frozen=True)
class TextChunk:
    text: str


@dataclass(frozen=True)
class ToolCallRequest:
    """A complete tool call (its argument fragments already joined); `arguments` is raw JSON."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int
    completion_tokens: int


StreamEvent = TextChunk | ToolCallRequest | TokenUsage


class LlmProvider(Protocol):
    """Streams one model reply to its end. Raises `LlmError`, also for a reply cut short."""

    name: str

    def default_model(self) -> str: ...

    def stream(self, request: LlmRequest) -> AsyncIterator[StreamEvent]: ...

    async def aclose(self) -> None: ...
