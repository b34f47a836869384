"""OpenAI Chat Completions (and any OpenAI-compatible server), streamed with tools."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import openai
from openai import AsyncStream
from openai.types.chat import ChatCompletionChunk

from bridge.agent.base import Message
from bridge.agent.llm.base import (
    LlmError,
    LlmRequest,
    StreamEvent,
    TextChunk,
    TokenUsage,
    ToolCallRequest,
)
from bridge.agent.llm.history import paired_tool_messages
from bridge.agent.llm.sdk import SdkProvider
from bridge.config import Settings
from bridge.openai_client import openai_client


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


class OpenAIProvider(SdkProvider[openai.AsyncOpenAI]):
    """Streams Chat Completions; tool-call fragments are joined by their `index`."""

    name = "openai"

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIProvider:
        return cls(openai_client(settings), settings.openai_model)

    async def _open(self, request: LlmRequest) -> AsyncStream[ChatCompletionChunk]:
        kwargs: dict[str, Any] = {}
        if request.tools:
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    },
                }
                for tool in request.tools
            ]
            kwargs["tool_choice"] = "auto"
        return await self._client.chat.completions.create(
            model=request.model or self._model,
            messages=to_openai_messages(request.system, request.messages),
            stream=True,
            stream_options={"include_usage": True},
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            timeout=request.timeout_s,
            **kwargs,
        )

    async def _events(self, stream: AsyncIterator[Any]) -> AsyncIterator[StreamEvent]:
        calls: dict[int, _PartialCall] = {}
        finish: str | None = None
        async for chunk in stream:
            if chunk.usage is not None:
                yield TokenUsage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
            for choice in chunk.choices:
                delta = choice.delta
                if delta is not None and delta.content:
                    yield TextChunk(delta.content)
                for fragment in (delta.tool_calls if delta is not None else None) or []:
                    call = calls.setdefault(fragment.index, _PartialCall())
                    call.id = call.id or (fragment.id or "")
                    if fragment.function is not None:
                        call.name = call.name or (fragment.function.name or "")
                        call.arguments += fragment.function.arguments or ""
                if choice.finish_reason and finish is None:
                    finish = choice.finish_reason
                    for index in sorted(calls):
                        call = calls[index]
                        yield ToolCallRequest(call.id or f"call_{index}", call.name, call.arguments)
        if finish is None:
            raise LlmError("network", "stream ended before the reply was finished")


def to_openai_messages(system: str, messages: list[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for message in paired_tool_messages(messages):
        if message.role == "caller":
            out.append({"role": "user", "content": message.text})
        elif message.role == "tool":
            out.append(
                {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.text}
            )
        elif message.tool_calls:
            out.append(
                {
                    "role": "assistant",
                    "content": message.text or None,
                    "tool_calls": [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {
                                "name": call.name,
                                "arguments": json.dumps(call.arguments),
                            },
                        }
                        for call in message.tool_calls
                    ],
                }
            )
        else:
            out.append({"role": "assistant", "content": message.text})
    return out
