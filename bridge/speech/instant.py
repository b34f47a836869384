"""Instant speech for benchmarks: no model, no thread, no wait.

`bridge bench --providers instant` measures the bridge's own work (sockets, frames, VAD,
turns, marks) with speech that costs nothing, so what is left is the bridge.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import AsyncIterator

from bridge.audio.phone import PHONE_RATE
from bridge.speech.base import RecognitionHints, Transcript

INSTANT_TRANSCRIPT = "What are your opening hours?"
# Audio per character of text: about the pace of speech, so replies play for a while.
MS_PER_CHAR = 60
_CHUNK_MS = 500


def _tone(ms: int, hz: float = 220.0, amplitude: int = 6000) -> bytes:
    """A plain tone, made once: playing audio for the caller's line to hold."""
    samples = PHONE_RATE * ms // 1000
    step = 2 * math.pi * hz / PHONE_RATE
    return array("h", (int(amplitude * math.sin(i * step)) for i in range(samples))).tobytes()


_CHUNK = _tone(_CHUNK_MS)


class InstantSTT:
    """Hears the same words in any utterance, at once."""

    def __init__(self, transcript: str = INSTANT_TRANSCRIPT) -> None:
        self.transcript = transcript

    def for_call(self, hints: RecognitionHints) -> InstantSTT:
        return self

    async def transcribe(self, pcm16: bytes, sample_rate: int) -> Transcript:
        return Transcript(text=self.transcript if pcm16 else "")


class InstantTTS:
    """Speaks any text as a tone as long as the text would take to say, already at 8 kHz."""

    @property
    def sample_rate(self) -> int:
        return PHONE_RATE

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        remaining = max(1, len(text)) * MS_PER_CHAR
        while remaining > 0:
            piece = min(remaining, _CHUNK_MS)
            yield _CHUNK[: PHONE_RATE * piece // 1000 * 2]
            remaining -= piece
