"""OpenAI's Realtime API behind `RealtimeLink`, through the official `openai` client.

Events are read as raw JSON (`recv_bytes`) and sent with `send_raw`: an audio delta then costs
one `json.loads` and a dict lookup, not a pydantic model per 20 ms of audio. Audio is g711
mu-law both ways (`audio/pcmu`), exactly what Twilio's media stream carries.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
from websockets.exceptions import ConnectionClosed

from bridge.agent.realtime.link import (
    AgentWords,
    AudioOut,
    CallerSpeechStarted,
    CallerSpeechStopped,
    CallerWords,
    LinkClosed,
    LinkConfig,
    LinkError,
    LinkEvent,
    RealtimeUsage,
    ResponseDone,
    ToolRequest,
)
from bridge.config import Settings
from bridge.openai_client import openai_client

log = logging.getLogger(__name__)

CLOSE_WAIT_S = 1.0  # the closing handshake is a courtesy; never hold up a call's teardown for it
MULAW = "audio/pcmu"


def session_config(config: LinkConfig) -> dict[str, Any]:
    """The `session.update` body (the GA Realtime session shape)."""
    audio_in: dict[str, Any] = {
        "format": {"type": MULAW},
        "transcription": {"model": config.transcription_model},
        "turn_detection": _turn_detection(config),
    }
    return {
        "type": "realtime",
        "instructions": config.instructions,
        "output_modalities": ["audio"],
        "audio": {
            "input": audio_in,
            "output": {"format": {"type": MULAW}, "voice": config.voice},
        },
        "tools": [{"type": "function", **tool} for tool in config.tools],
        "tool_choice": "auto",
    }


def _turn_detection(config: LinkConfig) -> dict[str, Any] | None:
    if config.turn_detection == "bridge":
        return None
    if config.turn_detection == "semantic_vad":
        return {"type": "semantic_vad", "create_response": True, "interrupt_response": True}
    return {
        "type": "server_vad",
        "silence_duration_ms": config.silence_ms,
        "create_response": True,
        "interrupt_response": True,
    }


class OpenAIRealtimeConnector:
    """Opens sessions on one shared client (keep one per app)."""

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self._client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIRealtimeConnector:
        return cls(openai_client(settings, settings.openai_realtime_base_url))

    async def open(self, config: LinkConfig) -> OpenAIRealtimeLink:
        try:
            async with asyncio.timeout(config.connect_timeout_s):
                connection = await self._client.realtime.connect(model=config.model).enter()
                link = OpenAIRealtimeLink(connection)
                await link.send({"type": "session.update", "session": session_config(config)})
                await link.configured()
                return link
        except Exception as exc:  # a timeout, a refused upgrade (websockets' InvalidStatus)...
            raise LinkClosed(f"realtime session not opened: {exc!r}") from exc

    async def aclose(self) -> None:
        await self._client.close()


class OpenAIRealtimeLink:
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def send(self, event: dict[str, Any]) -> None:
        try:
            await self._connection.send_raw(json.dumps(event))
        except (ConnectionClosed, openai.OpenAIError) as exc:
            raise LinkClosed(f"realtime session dropped: {exc!r}") from exc

    async def configured(self) -> None:
        """Wait until the session took our settings (a refused setting is an error here)."""
        while True:
            event = json.loads(await self._connection.recv_bytes())
            if event.get("type") == "session.updated":
                refused = not_mulaw(event.get("session") or {})
                if refused:
                    raise LinkClosed(f"realtime session did not take mu-law audio: {refused}")
                return
            if event.get("type") == "error":
                raise LinkClosed(f"realtime session refused its settings: {event.get('error')}")

    async def send_audio(self, ulaw: bytes) -> None:
        # The hot path: base64 needs no JSON escaping, so the event is written directly.
        payload = base64.b64encode(ulaw).decode("ascii")
        try:
            await self._connection.send_raw(
                f'{{"type":"input_audio_buffer.append","audio":"{payload}"}}'
            )
        except (ConnectionClosed, openai.OpenAIError) as exc:
            raise LinkClosed(f"realtime session dropped: {exc!r}") from exc

    async def commit(self) -> None:
        await self.send({"type": "input_audio_buffer.commit"})
        await self.send({"type": "response.create"})

    async def cancel(self) -> None:
        await self.send({"type": "response.cancel"})

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        await self.send(
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": audio_end_ms,
            }
        )

    async def tool_result(self, call_id: str, result: dict[str, Any]) -> None:
        item = {"type": "function_call_output", "call_id": call_id, "output": json.dumps(result)}
        await self.send({"type": "conversation.item.create", "item": item})

    async def caller_text(self, text: str) -> None:
        content = [{"type": "input_text", "text": text}]
        item = {"type": "message", "role": "user", "content": content}
        await self.send({"type": "conversation.item.create", "item": item})

    async def respond(self, instructions: str | None = None) -> None:
        response = {"instructions": instructions} if instructions else {}
        await self.send({"type": "response.create", "response": response})

    async def events(self) -> AsyncIterator[LinkEvent]:
        while True:
            try:
                raw = await self._connection.recv_bytes()
            except (ConnectionClosed, openai.OpenAIError) as exc:
                raise LinkClosed(f"realtime session dropped: {exc!r}") from exc
            received_at = time.perf_counter()
            event = translate(json.loads(raw), received_at)
            if event is not None:
                yield event

    async def close(self) -> None:
        try:
            async with asyncio.timeout(CLOSE_WAIT_S):
                await self._connection.close()
        except Exception:
            log.debug("realtime session did not close cleanly", exc_info=True)


def translate(event: dict[str, Any], received_at: float = 0.0) -> LinkEvent | None:
    """One server event as a `LinkEvent`; None for those a call has no use for."""
    kind = event.get("type", "")
    if kind in ("response.output_audio.delta", "response.audio.delta"):
        return AudioOut(event["item_id"], base64.b64decode(event["delta"]), received_at)
    if kind in ("response.output_audio_transcript.done", "response.audio_transcript.done"):
        return AgentWords(event["item_id"], event.get("transcript", ""))
    if kind == "input_audio_buffer.speech_started":
        return CallerSpeechStarted(event.get("audio_start_ms"))
    if kind == "input_audio_buffer.speech_stopped":
        return CallerSpeechStopped(event.get("audio_end_ms"))
    if kind == "conversation.item.input_audio_transcription.completed":
        return CallerWords(event.get("transcript", ""))
    if kind == "response.function_call_arguments.done":
        return ToolRequest(event["call_id"], event["name"], _arguments(event.get("arguments")))
    if kind == "response.done":
        response = event.get("response") or {}
        return ResponseDone(response.get("status", ""), _usage(response.get("usage") or {}))
    if kind == "error":
        error = event.get("error") or {}
        return LinkError(str(error.get("code") or ""), str(error.get("message") or ""))
    return None


def not_mulaw(session: dict[str, Any]) -> str:
    """What a `session.updated` says the audio is, if not the mu-law asked for ('' when it is,
    or when it does not say): passed on to Twilio as mu-law, anything else is loud noise."""
    audio = session.get("audio") or {}
    for direction in ("input", "output"):
        kind = ((audio.get(direction) or {}).get("format") or {}).get("type")
        if kind is not None and kind != MULAW:
            return f"{direction} audio is {kind!r}"
    return ""


def _arguments(raw: Any) -> dict[str, Any]:
    try:
        parsed = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return {"_unparsed": str(raw)}
    return parsed if isinstance(parsed, dict) else {"_unparsed": str(raw)}


def _usage(usage: dict[str, Any]) -> RealtimeUsage:
    given = usage.get("input_token_details") or {}
    made = usage.get("output_token_details") or {}
    return RealtimeUsage(
        input_text=int(given.get("text_tokens") or 0),
        input_audio=int(given.get("audio_tokens") or 0),
        output_text=int(made.get("text_tokens") or 0),
        output_audio=int(made.get("audio_tokens") or 0),
    )
