"""Speech providers seen through the provider-error metric, without changing what they do."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bridge.observability import metrics
from bridge.speech.base import (
    RecognitionHints,
    SpeechToText,
    TextToSpeech,
    Transcript,
    cores_busy,
)
from bridge.speech.pool import PoolClosed, PoolSaturated


def error_kind(exc: Exception) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, PoolSaturated):
        return "saturated"
    if isinstance(exc, PoolClosed):
        return "closed"
    return "error"


class CountedSTT:
    """A SpeechToText whose failures are counted as provider errors of "stt"."""

    def __init__(self, inner: SpeechToText) -> None:
        self._inner = inner

    def for_call(self, hints: RecognitionHints) -> CountedSTT:
        return CountedSTT(self._inner.for_call(hints))

    @property
    def busy(self) -> bool:
        """`SharedCores` of the recogniser inside (never for a remote one)."""
        return cores_busy(self._inner)

    async def transcribe(self, pcm16: bytes, sample_rate: int) -> Transcript:
        try:
            return await self._inner.transcribe(pcm16, sample_rate)
        except Exception as exc:
            metrics.provider_error("stt", error_kind(exc))
            raise


class CountedTTS:
    """A TextToSpeech whose failures are counted as provider errors of "tts"."""

    def __init__(self, inner: TextToSpeech) -> None:
        self._inner = inner

    @property
    def sample_rate(self) -> int:
        return self._inner.sample_rate

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner.synthesize(text):
                yield chunk
        except Exception as exc:
            metrics.provider_error("tts", error_kind(exc))
            raise
