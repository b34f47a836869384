"""Anthropic Messages, streamed with tools (`input_json_delta` fragments joined per block)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
from anthropic import AsyncStream
from anthropic.types import RawMessageStreamEvent

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

# The API wants the conversation to open with the user; a call opens with our greeting.
CALL_CONNECTED = "(The call has connected.)"


class AnthropicProvider(SdkProvider[anthropic.AsyncAnthropic]):
    name = "anthropic"

    @classmethod
    def from_settings(cls, settings: Settings) -> AnthropicProvider:
        client = anthropic.AsyncAnthropic(
            # A compatible server behind ANTHROPIC_BASE_URL may take any key; the SDK wants one.
            api_key=settings.anthropic_api_key.get_secret_value() or "unused",
            base_url=settings.anthropic_base_url or None,
            max_retries=0,  # retries are ours, within the turn's budget
        )
        return cls(client, settings.anthropic_model)

    async def _open(self, request: LlmRequest) -> AsyncStream[RawMessageStreamEvent]:
        # The Messages API takes `temperature`; this SDK's typed signature has no such argument,
        # so it goes in the body as is.
        kwargs: dict[str, Any] = {"extra_body": {"temperature": request.temperature}}
        if request.tools:
            kwargs["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in request.tools
            ]
            kwargs["tool_choice"] = {"type": "auto"}
        return await self._client.messages.create(
            model=request.model or self._model,
            system=request.system,
            messages=to_anthropic_messages(request.messages),
            max_tokens=request.max_tokens,
            stream=True,
            timeout=request.timeout_s,
            **kwargs,
        )

    async def _events(self, stream: AsyncIterator[Any]) -> AsyncIterator[StreamEvent]:
        tools: dict[int, list[str]] = {}  # block index -> [id, name, json so far]
        prompt_tokens = 0
        async for event in stream:
            if event.type == "message_start":
                prompt_tokens = event.message.usage.input_tokens or 0
            elif event.type == "content_block_start":
                block = event.content_block
                if block.type == "tool_use":
                    tools[event.index] = [block.id, block.name, ""]
            elif event.type == "content_block_delta":
                delta = event.delta
                if delta.type == "text_delta" and delta.text:
                    yield TextChunk(delta.text)
                elif delta.type == "input_json_delta" and event.index in tools:
                    tools[event.index][2] += delta.partial_json
            elif event.type == "content_block_stop" and event.index in tools:
                call_id, name, arguments = tools.pop(event.index)
                yield ToolCallRequest(call_id, name, arguments or "{}")
            elif event.type == "message_delta":
                yield TokenUsage(prompt_tokens, event.usage.output_tokens or 0)
            elif event.type == "message_stop":
                return
        raise LlmError("network", "stream ended before the reply was finished")


def to_anthropic_messages(messages: list[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in paired_tool_messages(messages):
        role = "assistant" if message.role == "agent" else "user"
        content: list[dict[str, Any]] = []
        if message.role == "tool":
            content.append(
                {
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id,
                    "content": message.text,
                }
            )
        elif message.text:
            content.append({"type": "text", "text": message.text})
        content += [
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
            for call in message.tool_calls
        ]
        if not content:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"] += content
        else:
            out.append({"role": role, "content": content})
    if not out or out[0]["role"] != "user":
        out.insert(0, {"role": "user", "content": [{"type": "text", "text": CALL_CONNECTED}]})
    return out
