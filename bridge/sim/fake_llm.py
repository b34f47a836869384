"""A local LLM server speaking OpenAI Chat Completions and Anthropic Messages streaming.

The real `openai` and `anthropic` clients talk to it over loopback (base URLs
`openai_base_url` and `anthropic_base_url`). Each request takes the next scripted reply of
its API, or, when none is queued, asks a scripted brain: an order number in the caller's
last words checks the order, a department's name transfers, "bye" ends the call. Replies
stream at a set pace (time to first token, tokens per second); scripts can also answer
with an HTTP error (429 with Retry-After, 500...), cut the stream mid-reply, or stall.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from bridge.sim.local_server import LocalServer

Api = Literal["openai", "anthropic"]
_TOKEN = re.compile(r"\s*\S+")
_STREAM = web.RequestKey("stream", web.StreamResponse)  # the request's event stream, once open
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class FakeToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FakeReply:
    """One scripted answer to one request."""

    text: str = ""
    tool_calls: tuple[FakeToolCall, ...] = ()
    status: int = 200  # anything else: an error reply with no stream
    retry_after: str | None = None
    cut_after_tokens: int | None = None  # end the stream here, without finishing the reply
    stall_s: float = 0.0  # wait this long before the first token (a timeout)


@dataclass(frozen=True)
class Pace:
    first_token_s: float = 0.0
    tokens_per_s: float = 0.0  # 0: as fast as possible


def scripted_brain(
    last_user: str, tool_result: dict[str, Any] | None, tools: set[str], departments: list[str]
) -> FakeReply:
    """A tiny deterministic 'model': enough to drive a call end to end through tools."""
    if tool_result is not None:
        if tool_result.get("error"):
            return FakeReply("Sorry, I could not do that. Could you say the order number again?")
        if "status" in tool_result:
            return FakeReply(
                f"Your order {tool_result.get('order_id', '')} is "
                f"{tool_result['status']}. Anything else?"
            )
        return FakeReply("Done. Is there anything else I can help with?")
    words = last_user.lower()
    digits = re.sub(r"\D", "", last_user)
    if "check_order_status" in tools and len(digits) >= 3:
        return FakeReply(
            "Let me check that.", (FakeToolCall("check_order_status", {"order_id": digits}),)
        )
    for department in departments:
        if department.lower() in words and "transfer_call" in tools:
            return FakeReply("", (FakeToolCall("transfer_call", {"department": department}),))
    if re.search(r"\b(bye|goodbye|that's all)\b", words) and "end_call" in tools:
        return FakeReply("Thanks for calling, goodbye!", (FakeToolCall("end_call"),))
    # Three sentences, like a real model's answer: it shows speech starting before the end.
    return FakeReply(
        "Happy to help with that. I can look up an order by its number, or connect you with "
        "sales, support or billing. What would you like to do?"
    )


class FakeLlm(LocalServer):
    """The server. `script(api, *replies)` queues replies; `requests` records what came in."""

    def __init__(self, pace: Pace | None = None) -> None:
        super().__init__()
        self.pace = pace or Pace()
        self.requests: list[tuple[Api, dict[str, Any]]] = []
        self._scripts: dict[Api, deque[FakeReply]] = {"openai": deque(), "anthropic": deque()}
        self._ids = itertools.count(1)

    def script(self, api: Api, *replies: FakeReply) -> None:
        self._scripts[api].extend(replies)

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def _routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/chat/completions", _until_the_client_leaves(self._openai))
        router.add_post("/v1/messages", _until_the_client_leaves(self._anthropic))

    def _next_reply(self, api: Api, body: dict[str, Any]) -> FakeReply:
        self.requests.append((api, body))
        if self._scripts[api]:
            return self._scripts[api].popleft()
        return scripted_brain(*_brain_inputs(api, body))

    async def _tokens(self, reply: FakeReply, started: float) -> AsyncIterator[str | None]:
        """The reply's text tokens at the set pace; None marks where the stream is cut."""
        await asyncio.sleep(max(0.0, started + self.pace.first_token_s - time.monotonic()))
        await asyncio.sleep(reply.stall_s)
        for count, token in enumerate(_TOKEN.findall(reply.text)):
            if reply.cut_after_tokens is not None and count >= reply.cut_after_tokens:
                yield None
                return
            if count and self.pace.tokens_per_s:
                await asyncio.sleep(1 / self.pace.tokens_per_s)
            yield token

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        body = await request.json()
        reply = self._next_reply("openai", body)
        if reply.status != 200:
            return _error(
                reply,
                {
                    "error": {
                        "message": "scripted failure",
                        "type": "fake",
                        "code": str(reply.status),
                    }
                },
            )
        response = await _sse(request)
        chunk_id, model = f"chatcmpl-{next(self._ids)}", body.get("model", "")

        async def send_chunk(choices: list[dict[str, Any]], **extra: Any) -> None:
            chunk = {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": choices,
            }
            await _send(response, None, {**chunk, **extra})

        async def send(delta: dict[str, Any], finish: str | None = None) -> None:
            await send_chunk([{"index": 0, "delta": delta, "finish_reason": finish}])

        count = 0
        async for token in self._tokens(reply, started):
            if token is None:
                return response
            await send(
                {"role": "assistant", "content": token} if count == 0 else {"content": token}
            )
            count += 1
        for index, call in enumerate(reply.tool_calls):
            call_id = f"call_{next(self._ids)}"
            await send(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
            )
            for piece in _fragments(json.dumps(call.arguments)):
                await send({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        await send({}, "tool_calls" if reply.tool_calls else "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = _usage(body, count + 8 * len(reply.tool_calls))
            await send_chunk(
                [],
                usage={
                    "prompt_tokens": usage[0],
                    "completion_tokens": usage[1],
                    "total_tokens": sum(usage),
                },
            )
        await response.write(b"data: [DONE]\n\n")
        return response

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        body = await request.json()
        reply = self._next_reply("anthropic", body)
        if reply.status != 200:
            kind = "rate_limit_error" if reply.status == 429 else "api_error"
            return _error(
                reply, {"type": "error", "error": {"type": kind, "message": "scripted failure"}}
            )
        response = await _sse(request)
        prompt_tokens, _ = _usage(body, 0)
        await _send(
            response,
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": f"msg_{next(self._ids)}",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": body.get("model", ""),
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": prompt_tokens, "output_tokens": 1},
                },
            },
        )
        index = count = 0
        async for token in self._tokens(reply, started):
            if token is None:
                return response
            if count == 0:
                await _send(
                    response,
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
            await _send(
                response,
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": token},
                },
            )
            count += 1
        if count:
            await _send(response, "content_block_stop", {"type": "content_block_stop", "index": 0})
            index = 1
        for offset, call in enumerate(reply.tool_calls):
            block = index + offset
            await _send(
                response,
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": block,
                    "content_block": {
                        "type": "tool_use",
                        "id": f"toolu_{next(self._ids)}",
                        "name": call.name,
                        "input": {},
                    },
                },
            )
            for piece in _fragments(json.dumps(call.arguments)):
                await _send(
                    response,
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": block,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                )
            await _send(
                response, "content_block_stop", {"type": "content_block_stop", "index": block}
            )
        await _send(
            response,
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
                    "stop_sequence": None,
                },
                "usage": {"output_tokens": count + 8 * len(reply.tool_calls)},
            },
        )
        await _send(response, "message_stop", {"type": "message_stop"})
        return response


def _brain_inputs(
    api: Api, body: dict[str, Any]
) -> tuple[str, dict[str, Any] | None, set[str], list[str]]:
    tools: set[str] = set()
    departments: list[str] = []
    for tool in body.get("tools") or []:
        spec = tool.get("function", tool)
        tools.add(spec["name"])
        schema = spec.get("parameters") or spec.get("input_schema") or {}
        departments += schema.get("properties", {}).get("department", {}).get("enum", [])
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    if api == "openai":
        if last.get("role") == "tool":
            return "", _json_object(last.get("content", "")), tools, departments
        return str(last.get("content") or ""), None, tools, departments
    content = last.get("content", "")
    blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
    for block in blocks:
        if block.get("type") == "tool_result":
            return "", _json_object(str(block.get("content", ""))), tools, departments
    text = " ".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    return text, None, tools, departments


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}


def _fragments(text: str, size: int = 7) -> list[str]:
    """Tool arguments split across several chunks, as the real APIs send them."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _usage(body: dict[str, Any], completion_tokens: int) -> tuple[int, int]:
    return len(json.dumps(body.get("messages", []))) // 4 + 10, completion_tokens


def _error(reply: FakeReply, payload: dict[str, Any]) -> web.Response:
    headers = {"retry-after": reply.retry_after} if reply.retry_after is not None else {}
    return web.json_response(payload, status=reply.status, headers=headers)


async def _sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    request[_STREAM] = response
    return response


def _until_the_client_leaves(handler: Handler) -> Handler:
    """A client that gives up on a stream (the bridge's first-token deadline) ends it, as a
    real server's would end: not with an error logged for the write that found it gone."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ConnectionResetError:
            return request[_STREAM]

    return handle


async def _send(response: web.StreamResponse, event: str | None, data: dict[str, Any]) -> None:
    head = f"event: {event}\n" if event else ""
    await response.write(f"{head}data: {json.dumps(data)}\n\n".encode())
