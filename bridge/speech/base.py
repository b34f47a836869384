"""The two speech seams. Calls only ever see these protocols, never a vendor.

Below them, the capabilities a vendor may have, which the process's speech (`factory.py`)
asks for instead of asking which vendor it holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from bridge.dialplan.models import VoiceSettings


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


@runtime_checkable
class LocalModel(Protocol):
    """A model run in this process: loading it takes seconds, so it is loaded (and run once)
    before the first call. A remote service has nothing to load."""

    async def load(self) -> None: ...


@runtime_checkable
class DialplanVoices(Protocol):
    """A TTS with voices a dialplan's `voice:` block chooses among."""

    @property
    def provider(self) -> str:
        """What a dialplan's `voice.provider` calls this vendor."""
        ...

    def for_voice(self, voice: VoiceSettings) -> TextToSpeech:
        """This TTS as `voice` asks for it: its speed, and its name where the vendor has names."""
        ...


@runtime_checkable
class SteadyVoice(Protocol):
    """A TTS that varies its delivery at random, and can stop: a simulated caller's script is
    then heard the same way on every run."""

    def steady(self) -> TextToSpeech: ...
