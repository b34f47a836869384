"""One connection to the Realtime stand-in (`fake_realtime.py`): its session, input buffer,
server VAD and the response in flight, speaking the API's WebSocket events."""

from __future__ import annotations

import asyncio
import base64
import functools
import itertools
import json
import math
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from bridge.audio.codec import pcm16_to_ulaw, ulaw_to_pcm16
from bridge.audio.framing import Framer
from bridge.audio.phone import PHONE_RATE, ULAW_FRAME
from bridge.audio.resample import Resampler
from bridge.audio.turns import SpeechStarted, TurnEnded
from bridge.audio.vad import TurnDetector
from bridge.dialplan.models import TurnSettings
from bridge.sim.fake_llm import FakeReply, scripted_brain

if TYPE_CHECKING:
    from bridge.sim.fake_realtime import FakeRealtime

AUDIO_TOKENS_IN_PER_S = 10  # the API counts caller audio at about 1 token / 100 ms
AUDIO_TOKENS_OUT_PER_S = 20  # and its own audio at about 1 token / 50 ms
# A response asked for with these instructions says the quoted words (a greeting, a goodbye).
SAY_EXACTLY = re.compile(r'Say exactly: "(.*)"', re.DOTALL)


@dataclass(frozen=True)
class RealtimeTurn:
    """One caller turn as the stand-in hears it, and what it answers (None: the brain)."""

    heard: str
    reply: FakeReply | None = None


@dataclass
class Truncation:
    item_id: str
    audio_end_ms: int
    audio_ms: float  # how much audio the stand-in had sent for that item
    conversation: int = 0  # which connection (in order of arrival, from 1)


@dataclass
class _Item:
    """An assistant audio item the stand-in produced."""

    audio_ms: float = 0.0


class Conversation:
    """One connection: its session, input buffer, VAD and the response in flight."""

    def __init__(
        self, server: FakeRealtime, ws: web.WebSocketResponse, model: str, number: int
    ) -> None:
        self._server = server
        self.number = number
        self._ws = ws
        self._session: dict[str, Any] = {"model": model, "type": "realtime"}
        self._ids = itertools.count(1)
        self._framer = Framer(ULAW_FRAME)
        self._vad: TurnDetector | None = None
        self._buffer = bytearray()  # mu-law since the last commit
        self._clock_ms = 0
        self._response: asyncio.Task[None] | None = None
        self._items: dict[str, _Item] = {}
        self._last_heard = ""
        self._tool_result: dict[str, Any] | None = None
        self._pending_reply: FakeReply | None = None  # the scripted answer to the last turn
        self._input_audio_ms = 0.0  # caller audio since the last response, for its usage

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    async def send(self, event: dict[str, Any]) -> None:
        if not self._ws.closed:
            await self._ws.send_str(json.dumps({"event_id": self._id("event"), **event}))

    async def run(self) -> None:
        await self.send({"type": "session.created", "session": self._session})
        try:
            async for message in self._ws:
                if message.type is not WSMsgType.TEXT:
                    break
                await self._handle(json.loads(message.data))
        finally:
            if self._response is not None:
                self._response.cancel()

    async def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        self._server.messages_received += 1
        if kind != "input_audio_buffer.append":
            self._server.client_events.append(event)
        if kind == "session.update":
            self._session.update(event.get("session", {}))
            if self._server.output_format:
                output = self._session.setdefault("audio", {}).setdefault("output", {})
                output["format"] = {"type": self._server.output_format, "rate": 24000}
            self._server.sessions.append(self._session)
            self._vad = _server_vad(self._session)
            await self.send({"type": "session.updated", "session": self._session})
        elif kind == "input_audio_buffer.append":
            await self._append(base64.b64decode(event["audio"]))
        elif kind == "input_audio_buffer.commit":
            await self._commit(bytes(self._buffer), respond=False)
        elif kind == "conversation.item.create":
            item = event.get("item", {})
            if item.get("type") == "function_call_output":
                self._tool_result = json.loads(item.get("output") or "{}")
            elif item.get("role") == "user":
                self._last_heard = " ".join(part.get("text", "") for part in item["content"])
                self._tool_result = self._pending_reply = None
            await self.send({"type": "conversation.item.added", "item": item})
        elif kind == "response.create":
            said = SAY_EXACTLY.search((event.get("response") or {}).get("instructions") or "")
            if said:  # fixed words are said as asked, even right after a tool's output
                self._pending_reply = FakeReply(said.group(1))
                self._tool_result = None
            self._start_response()
        elif kind == "response.cancel":
            await self._cancel(event)
        elif kind == "conversation.item.truncate":
            await self._truncate(event)

    async def _append(self, ulaw: bytes) -> None:
        self._buffer.extend(ulaw)
        for frame in self._framer.push(ulaw):
            self._clock_ms += 20
            if self._vad is None:
                continue
            turn_event = self._vad.push(ulaw_to_pcm16(frame))
            if isinstance(turn_event, SpeechStarted):
                self._server.speech_started.setdefault(self.number, []).append(time.perf_counter())
                await self.send(
                    {
                        "type": "input_audio_buffer.speech_started",
                        "audio_start_ms": turn_event.at_ms,
                        "item_id": self._id("item"),
                    }
                )
                if self._response is not None and not self._response.done():
                    # Server VAD interrupts the response in flight (interrupt_response).
                    self._response.cancel()
            elif isinstance(turn_event, TurnEnded):
                await self.send(
                    {
                        "type": "input_audio_buffer.speech_stopped",
                        "audio_end_ms": turn_event.at_ms,
                        "item_id": self._id("item"),
                    }
                )
                await self._commit(bytes(self._buffer), respond=True, speech=turn_event.audio)

    async def _commit(self, ulaw: bytes, respond: bool, speech: bytes = b"") -> None:
        """The caller's turn is in: hear it (`speech`: the VAD's PCM16 of the turn alone)."""
        self._buffer.clear()
        item_id = self._id("item")
        await self.send({"type": "input_audio_buffer.committed", "item_id": item_id})
        turn = self._server._next_turn()
        if turn is None and self._server.stt is not None:
            pcm16 = speech or ulaw_to_pcm16(ulaw)
            heard = await self._server.stt.transcribe(pcm16, PHONE_RATE)
            turn = RealtimeTurn(heard.text)
        turn = turn or RealtimeTurn("")
        self._last_heard, self._tool_result = turn.heard, None
        self._pending_reply = turn.reply
        self._input_audio_ms = len(ulaw) * 1000 / PHONE_RATE
        await self.send(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item_id,
                "content_index": 0,
                "transcript": turn.heard,
                "usage": {"type": "duration", "seconds": round(len(ulaw) / PHONE_RATE, 2)},
            }
        )
        if respond and not self._server.stall:
            self._start_response()

    def _start_response(self) -> None:
        if self._response is not None and not self._response.done():
            return
        self._response = asyncio.create_task(self._respond())

    def _reply(self) -> FakeReply:
        pending = self._pending_reply
        if pending is not None and self._tool_result is None:
            return pending
        if self._server.reply is not None:
            return self._server.reply
        tools = {tool["name"] for tool in self._session.get("tools", [])}
        departments: list[str] = []
        for tool in self._session.get("tools", []):
            if tool["name"] == "transfer_call":
                departments = tool["parameters"]["properties"]["department"].get("enum", [])
        return scripted_brain(self._last_heard, self._tool_result, tools, departments)

    async def _respond(self) -> None:
        reply = self._reply()
        self._pending_reply = None
        response_id = self._id("resp")
        status = "cancelled"
        output_ms = 0.0
        try:
            await asyncio.sleep(self._server.delay_s)
            if not self._server._count_response():
                await self._ws.close()
                return
            await self.send({"type": "response.created", "response": {"id": response_id}})
            if self._server.fail:
                status = "failed"
                return
            if reply.text:
                output_ms = await self._speak(response_id, reply.text)
            for index, call in enumerate(reply.tool_calls, start=1):
                arguments = json.dumps(call.arguments)
                common = {
                    "response_id": response_id,
                    "item_id": self._id("item"),
                    "output_index": index,
                    "call_id": self._id("call"),
                }
                await self.send(
                    {"type": "response.function_call_arguments.delta", **common, "delta": arguments}
                )
                await self.send(
                    {
                        "type": "response.function_call_arguments.done",
                        **common,
                        "name": call.name,
                        "arguments": arguments,
                    }
                )
            status = "completed"
        finally:
            await asyncio.shield(self._done(response_id, status, reply, output_ms))

    async def _speak(self, response_id: str, text: str) -> float:
        item_id = self._id("item")
        item = self._items[item_id] = _Item()
        common = {"response_id": response_id, "item_id": item_id, "output_index": 0}
        await self.send(
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": 0,
                "item": {"id": item_id, "type": "message", "role": "assistant"},
            }
        )
        for word in text.split():
            await self.send(
                {
                    "type": "response.output_audio_transcript.delta",
                    **common,
                    "content_index": 0,
                    "delta": word + " ",
                }
            )
        async for audio in self._audio(text):
            piece = self._server._stamped(self.number, audio)
            await self.send(
                {
                    "type": "response.output_audio.delta",
                    **common,
                    "content_index": 0,
                    "delta": base64.b64encode(piece).decode("ascii"),
                }
            )
            item.audio_ms += len(piece) * 1000 / PHONE_RATE
            pace = self._server.audio_pace
            # Faster than real time, like the real API; at least a yield between deltas.
            await asyncio.sleep(len(piece) / PHONE_RATE / pace if pace else 0)
        await self.send(
            {
                "type": "response.output_audio_transcript.done",
                **common,
                "content_index": 0,
                "transcript": text,
            }
        )
        return item.audio_ms

    async def _audio(self, text: str) -> AsyncIterator[bytes]:
        """The reply's mu-law in `chunk_ms` pieces, as it is made."""
        chunk = PHONE_RATE * self._server.chunk_ms // 1000
        pending = b""
        async for ulaw in self._speech(text):
            pending += ulaw
            while len(pending) >= chunk:
                yield pending[:chunk]
                pending = pending[chunk:]
        if pending:
            yield pending

    async def _speech(self, text: str) -> AsyncIterator[bytes]:
        tts = self._server.tts
        if tts is None:
            yield tone(self._server.ms_per_word * len(text.split()))
            return
        resampler = Resampler(tts.sample_rate, PHONE_RATE)
        async for pcm in tts.synthesize(text):
            yield pcm16_to_ulaw(resampler.process(pcm))

    async def _done(self, response_id: str, status: str, reply: FakeReply, out_ms: float) -> None:
        in_audio = round(self._input_audio_ms * AUDIO_TOKENS_IN_PER_S / 1000)
        out_audio = round(out_ms * AUDIO_TOKENS_OUT_PER_S / 1000)
        in_text, out_text = 200, len(reply.text.split())
        self._input_audio_ms = 0.0
        await self.send(
            {
                "type": "response.done",
                "response": {
                    "id": response_id,
                    "status": status,
                    "usage": {
                        "input_tokens": in_audio + in_text,
                        "output_tokens": out_audio + out_text,
                        "total_tokens": in_audio + in_text + out_audio + out_text,
                        "input_token_details": {"audio_tokens": in_audio, "text_tokens": in_text},
                        "output_token_details": {
                            "audio_tokens": out_audio,
                            "text_tokens": out_text,
                        },
                    },
                },
            }
        )

    async def _cancel(self, event: dict[str, Any]) -> None:
        if self._response is None or self._response.done():
            await self._error("response_cancel_not_active", "no active response", event)
            return
        self._server.cancels += 1
        self._response.cancel()

    async def _truncate(self, event: dict[str, Any]) -> None:
        item = self._items.get(event.get("item_id", ""))
        end_ms = int(event.get("audio_end_ms", -1))
        if item is None or not 0 <= end_ms <= item.audio_ms:
            await self._error("invalid_value", "audio_end_ms is past the item's audio", event)
            return
        self._server.truncations.append(
            Truncation(event["item_id"], end_ms, item.audio_ms, self.number)
        )
        await self.send(
            {
                "type": "conversation.item.truncated",
                "item_id": event["item_id"],
                "content_index": 0,
                "audio_end_ms": end_ms,
            }
        )

    async def _error(self, code: str, message: str, event: dict[str, Any]) -> None:
        await self.send(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": code,
                    "message": message,
                    "event_id": event.get("event_id"),
                },
            }
        )


def _server_vad(session: dict[str, Any]) -> TurnDetector | None:
    """The bridge's own detector stands in for the API's server VAD (None: turn detection off)."""
    detection = session.get("audio", {}).get("input", {}).get("turn_detection")
    if not detection:
        return None
    silence = int(detection.get("silence_duration_ms", 500))
    return TurnDetector(TurnSettings(silence_ms=max(100, silence)))


@functools.lru_cache(maxsize=64)
def tone(ms: int) -> bytes:
    """A soft 440 Hz tone, as mu-law: stands in for speech where words do not matter."""
    samples = PHONE_RATE * ms // 1000
    pcm = b"".join(
        int(6000 * math.sin(2 * math.pi * 440 * n / PHONE_RATE)).to_bytes(2, "little", signed=True)
        for n in range(samples)
    )
    return pcm16_to_ulaw(pcm)
