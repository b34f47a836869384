"""One streaming interface for every LLM provider, and one error type for all their faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

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


@dataclass(frozen=True)
class Done:
    """The reply is complete; `stop_reason` as the provider gave it."""

    stop_reason: str


StreamEvent = TextChunk | ToolCallRequest | TokenUsage | Done


class LlmProvider(Protocol):
    """Streams one model reply. Raises `LlmError`; a stream that ends without `Done` is cut."""

    name: str

    def default_model(self) -> str: ...

    def stream(self, request: LlmRequest) -> AsyncIterator[StreamEvent]: ...

    async def aclose(self) -> None: ...


class _Closable(Protocol):
    async def close(self) -> None: ...


ClientT = TypeVar("ClientT", bound=_Closable)


class SdkProvider(Generic[ClientT]):
    """What the SDK-backed providers share: one async client, and the model they default to."""

    name: str

    def __init__(self, client: ClientT, model: str) -> None:
        self._client = client
        self._model = model

    def default_model(self) -> str:
        return self._model

    async def aclose(self) -> None:
        await self._client.close()
