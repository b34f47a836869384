"""What the call session queues and tracks between a caller's turn and the agent's reply."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal


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
    # Transcription started when the caller fell silent, over this very audio.
    transcript: asyncio.Task[str] | None = None


@dataclass
class ReplyState:
    """The reply in flight: which turn it answers and how far it got."""

    turn: PendingTurn
    stage: Literal["stt", "agent"] = "stt"
    task: asyncio.Task[None] | None = None
