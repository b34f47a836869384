"""The two speech seams. Calls only ever see these protocols, never a vendor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class SpeechToText(Protocol):
    """Turns one caller utterance into text."""

    async def transcribe(self, pcm16: bytes, sample_rate: int) -> str:
        """Mono little-endian PCM16 at `sample_rate` in, the words out ("" for none)."""
        ...


class TextToSpeech(Protocol):
    """Speaks a piece of text (one sentence or clause at a time)."""

    @property
    def sample_rate(self) -> int:
        """The rate of the PCM16 that `synthesize` yields."""
        ...

    def synthesize(self, text: str) -> AsyncIterator[bytes]:
        """Mono little-endian PCM16 at `sample_rate`, in one or more chunks."""
        ...
