"""The two speech seams. Calls only ever see these protocols, never a vendor.

Below them, the capabilities a vendor may have, which the process's speech (`factory.py`)
asks for instead of asking which vendor it holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from bridge.dialplan.models import VoiceSettings

# Below this the recogniser is unsure of a turn: the agent checks before it acts on it.
# `bridge wer --calibrate` (tiny.en, 162 turns, clean/white/babble at 10 dB): 0.6 catches 62 %
# of the wrong transcripts (0.5 caught 34 %) and questions 26 % of the right ones (5 % on a
# clean line); 0.65 separates a little better overall but questions 16 % on a clean line.
UNSURE_BELOW = 0.6


class Transcript(BaseModel):
    """What the recogniser heard in one turn, and how sure it is of it."""

    model_config = ConfigDict(frozen=True)

    text: str = ""
    # The language heard (or set); "" when the provider does not say.
    language: str = ""
    # 0-1: the recogniser's belief in these words (1.0 from providers that give none).
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)

    @property
    def unsure(self) -> bool:
        return bool(self.text.strip()) and self.confidence < UNSURE_BELOW


class RecognitionHints(BaseModel):
    """What one line tells its recogniser: which model, which language, which words to expect."""

    model_config = ConfigDict(frozen=True)

    # A model name or folder (speech/models.py); "" for the process's default.
    model: str = ""
    # An ISO 639-1 code ("en", "es"), or "auto" to detect it per turn.
    language: str = "en"
    # Names and phrases callers of this line say (business, departments, "order number").
    vocabulary: str = ""
    # The agent asked for digits (an order number, a ZIP): the turn is decoded expecting them.
    digits: bool = False
    # Reduce the line's steady noise in each turn first (dialplan `recognition.denoise`).
    denoise: Literal["off", "spectral"] = "spectral"


class SpeechToText(Protocol):
    """Turns one caller utterance into text."""

    def for_call(self, hints: RecognitionHints) -> SpeechToText:
        """This recogniser with one line's hints (the same loaded model where it can)."""
        ...

    async def transcribe(self, pcm16: bytes, sample_rate: int) -> Transcript:
        """Mono little-endian PCM16 at `sample_rate` in, the words out (empty text for none)."""
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
class SharedCores(Protocol):
    """A recogniser that runs on this machine's cores, shared by every call and by the voice:
    `busy` while they are already working on something."""

    @property
    def busy(self) -> bool: ...


def cores_busy(stt: object) -> bool:
    """Whether `stt` runs on this machine's cores and they are busy (never for a remote one)."""
    return isinstance(stt, SharedCores) and stt.busy


@runtime_checkable
class DialplanVoices(Protocol):
    """A TTS with voices a dialplan's `voice:` block chooses among."""

    @property
    def provider(self) -> str:
        """What a dialplan's `voice.provider` calls this vendor."""
        ...

    def for_voice(self, voice: VoiceSettings, language: str = "auto") -> TextToSpeech:
        """This TTS as `voice` asks for it: its speed, its name where the vendor has names,
        and the voice it speaks `language` with where the vendor needs one per language."""
        ...


@runtime_checkable
class SteadyVoice(Protocol):
    """A TTS that varies its delivery at random, and can stop: a simulated caller's script is
    then heard the same way on every run."""

    def steady(self) -> TextToSpeech: ...
