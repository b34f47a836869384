"""Fixed phrases, synthesized once per voice and kept for the life of the process.

The greeting, fillers, reprompts, apologies and goodbyes are the same audio on every call of
a dialplan: synthesizing them once at startup saves the TTS work on every call, and they still
play when the voice is failing (that is when the apology is needed most).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable

from bridge.speech.base import TextToSpeech

log = logging.getLogger(__name__)

CHUNK_MS = 100  # kept audio goes out in pieces this long, like a TTS stream


class PhraseCache:
    """Kept audio by voice (the TTS object a dialplan speaks with) and exact text."""

    def __init__(self) -> None:
        self._voices: dict[int, tuple[TextToSpeech, dict[str, bytes]]] = {}

    async def warm(self, voice: TextToSpeech, texts: Iterable[str]) -> None:
        """Synthesize each text not kept yet; a failure is logged, the text stays uncached."""
        kept = self._kept(voice)
        for text in texts:
            if text in kept or not text.strip():
                continue
            try:
                kept[text] = b"".join([chunk async for chunk in voice.synthesize(text)])
            except Exception:
                log.exception("could not synthesize the fixed phrase %r", text)

    def audio(self, voice: TextToSpeech, text: str) -> bytes | None:
        return self._kept(voice).get(text)

    def _kept(self, voice: TextToSpeech) -> dict[str, bytes]:
        return self._voices.setdefault(id(voice), (voice, {}))[1]


class PhraseVoice:
    """A TextToSpeech that plays kept phrases from the cache and synthesizes the rest.

    `synthesizer` does the work for uncached text (the voice itself, perhaps counted).
    """

    def __init__(
        self, cache: PhraseCache, voice: TextToSpeech, synthesizer: TextToSpeech | None = None
    ) -> None:
        self._cache = cache
        self._voice = voice
        self._synthesizer = synthesizer or voice

    @property
    def sample_rate(self) -> int:
        return self._voice.sample_rate

    def keeps(self, text: str) -> bool:
        """Whether `text` is a kept phrase of this voice (plays without synthesis)."""
        return self._cache.audio(self._voice, text) is not None

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        kept = self._cache.audio(self._voice, text)
        if kept is None:
            async for chunk in self._synthesizer.synthesize(text):
                yield chunk
            return
        step = self.sample_rate * CHUNK_MS // 1000 * 2
        for start in range(0, len(kept), step):
            yield kept[start : start + step]
