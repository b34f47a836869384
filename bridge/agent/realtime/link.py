"""The seam to a speech-to-speech model: what a call sends it and the events it gets back.

A `RealtimeLink` is one live session. The call session sends the caller's mu-law as it
arrives and reads `LinkEvent`s: audio to play, the model's and the caller's words, tool calls,
turn boundaries and usage. It knows nothing of Twilio; the vendor wire is in its own module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class AudioOut:
    """Mu-law the model said, for assistant item `item_id`."""

    item_id: str
    ulaw: bytes
    received_at: float = 0.0  # perf_counter when it came off the socket (0: unknown)


@dataclass(frozen=True, slots=True)
class AgentWords:
    """The whole transcript of what the model said in `item_id` (not what was heard)."""

    item_id: str
    text: str


@dataclass(frozen=True, slots=True)
class CallerSpeechStarted:
    """The model's VAD heard the caller start talking: the barge-in signal."""

    audio_start_ms: int | None = None  # on the clock of the audio sent to the model


@dataclass(frozen=True, slots=True)
class CallerSpeechStopped:
    """The model's VAD heard the caller stop: a response is on its way."""

    audio_end_ms: int | None = None


@dataclass(frozen=True, slots=True)
class CallerWords:
    """The transcript of one caller turn (runs beside the response; may come after it)."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolRequest:
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RealtimeUsage:
    input_text: int = 0
    input_audio: int = 0
    output_text: int = 0
    output_audio: int = 0


@dataclass(frozen=True, slots=True)
class ResponseDone:
    """A response ended: `completed`, `cancelled`, `failed` or `incomplete`."""

    status: str
    usage: RealtimeUsage = field(default_factory=RealtimeUsage)


@dataclass(frozen=True, slots=True)
class LinkError:
    """An error the model reported on one event; the session goes on."""

    code: str
    message: str


LinkEvent = (
    AudioOut
    | AgentWords
    | CallerSpeechStarted
    | CallerSpeechStopped
    | CallerWords
    | ToolRequest
    | ResponseDone
    | LinkError
)


@dataclass(frozen=True)
class LinkConfig:
    """What the session is told at the start: who the agent is, how it hears and speaks."""

    model: str
    instructions: str
    voice: str
    tools: list[dict[str, Any]]  # name, description, parameters (JSON Schema)
    turn_detection: str  # "server_vad", "semantic_vad", or "bridge" (the model's VAD off)
    silence_ms: int
    transcription_model: str
    connect_timeout_s: float = 3.0


class LinkClosed(Exception):
    """The session is gone (dropped by the far end, or never opened)."""


class RealtimeLink(Protocol):
    async def send_audio(self, ulaw: bytes) -> None: ...

    async def commit(self) -> None:
        """The caller's turn ended (the bridge's own VAD): answer it."""
        ...

    async def cancel(self) -> None: ...

    async def truncate(self, item_id: str, audio_end_ms: int) -> None:
        """The caller heard only `audio_end_ms` of `item_id`: the model forgets the rest."""
        ...

    async def tool_result(self, call_id: str, result: dict[str, Any]) -> None:
        """Hand back a tool's result (`respond` then lets the model go on)."""
        ...

    async def caller_text(self, text: str) -> None:
        """Something the caller gave as text (keyed digits), as their turn."""
        ...

    async def respond(self, instructions: str | None = None) -> None:
        """Ask for a response now; `instructions` steer this one response only."""
        ...

    def events(self) -> AsyncIterator[LinkEvent]:
        """Events until the session ends; raises LinkClosed when it drops."""
        ...

    async def close(self) -> None: ...


class RealtimeConnector(Protocol):
    async def open(self, config: LinkConfig) -> RealtimeLink:
        """Open and configure one session; raises LinkClosed when it cannot."""
        ...
