"""What the call session queues and tracks between a caller's turn and the agent's reply."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal

from bridge.speech.base import Transcript


def _now() -> float:
    return asyncio.get_running_loop().time()


@dataclass
class PendingTurn:
    """A caller turn waiting for its reply."""

    source: Literal["speech", "dtmf", "greeting"]
    audio: bytes = b""
    text: str = ""
    # Spoken as it is, without the agent (the greeting, a key's message); `caller` is its cause.
    scripted: bool = False
    caller: str = ""
    endpointing_ms: float | None = None
    # When the caller stopped speaking (or keyed), on the loop's clock: the wait for the
    # agent's voice counts from here, endpointing included.
    waiting_since: float = field(default_factory=_now)
    speech_ms: int = 0  # how long the caller spoke (pauses inside included)
    # Transcription started when the caller fell silent, over this very audio.
    transcript: asyncio.Task[Transcript] | None = None


def _released() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


@dataclass
class ReplyState:
    """The reply in flight: which turn it answers and how far it got."""

    turn: PendingTurn
    id: int
    stage: Literal["stt", "agent"] = "stt"
    task: asyncio.Task[None] | None = None
    # Cleared while a barge-in on this reply is judged: the reply holds, neither cancelled
    # nor speaking. A false interruption releases it to say `unheard` again first.
    released: asyncio.Event = field(default_factory=_released)
    unheard: list[str] = field(default_factory=list)
    resumed: int = 0
    # One piece at a time on the line (a filler may want to speak alongside the reply).
    speaking: asyncio.Lock = field(default_factory=asyncio.Lock)
    spoke: bool = False  # audio of it has come from the voice
    voice_failed: bool = False  # the TTS failed during it (and a kept phrase said so)
    voice_stalled: bool = False  # the TTS gave no audio in time: not asked again in this reply

    def hold(self, unheard: list[str]) -> None:
        self.released.clear()
        self.unheard = [*self.unheard, *unheard]
