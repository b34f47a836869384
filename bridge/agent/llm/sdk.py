"""What the SDK-backed providers share: one async client, its default model, and the stream.

Each provider supplies only its wire format: how a request opens the SDK's stream
(`_open`) and how that stream's events become ours (`_events`). Opening, reading and
closing the stream, and turning any fault of it into one classified `LlmError`, are here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, Protocol, TypeVar

from bridge.agent.llm.base import LlmRequest, StreamEvent
from bridge.agent.llm.errors import classify


class _Closable(Protocol):
    async def close(self) -> None: ...


ClientT = TypeVar("ClientT", bound=_Closable)


class SdkProvider(ABC, Generic[ClientT]):
    name: str

    def __init__(self, client: ClientT, model: str) -> None:
        self._client = client
        self._model = model

    def default_model(self) -> str:
        return self._model

    async def aclose(self) -> None:
        await self._client.close()

    async def stream(self, request: LlmRequest) -> AsyncIterator[StreamEvent]:
        try:
            stream = await self._open(request)
            async with stream:
                async for event in self._events(stream):
                    yield event
        except Exception as exc:  # every client fault becomes one classified error
            raise classify(exc) from exc

    @abstractmethod
    async def _open(self, request: LlmRequest) -> AbstractAsyncContextManager[Any]:
        """The SDK's open stream of this request's reply (an async iterable of its events)."""

    @abstractmethod
    def _events(self, stream: AsyncIterator[Any]) -> AsyncIterator[StreamEvent]:
        """The SDK's events as ours; raises `LlmError` when the stream ends before the reply."""
