"""The voice a `language: auto` line answers each turn with: the one it has for the language
the caller was heard in. A Spanish turn, answered in Spanish by the rules agent, is spoken by
the Spanish voice; the next English turn by the English one. A line of one language has one
voice and needs none of this.

The voice changes when a turn's words are known, before the agent answers: what plays
before then (a filler for that turn) is still in the previous turn's voice. The line's own
fixed phrases (fillers, keep-alives, apologies: in the line's language) keep the line's
voice whatever the turn's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection
from typing import Protocol, runtime_checkable

from bridge.audio.resample import Resampler
from bridge.speech.base import TextToSpeech


@runtime_checkable
class KeptPhrases(Protocol):
    """A voice with phrases already made (the phrase cache)."""

    def keeps(self, text: str) -> bool: ...


@runtime_checkable
class HeardLanguage(Protocol):
    """A call's voice that follows the language each turn was heard in."""

    def heard(self, language: str) -> None: ...


class TurnLanguageVoice:
    """`TextToSpeech` in the voice of the last turn's language.

    `voice_for(language)` gives the voice for a language ("auto": the line's own); only the
    `spoken` languages get theirs: the agent answers the others in the line's language.
    """

    def __init__(self, voice_for: Callable[[str], TextToSpeech], spoken: Collection[str]) -> None:
        self._voice_for = voice_for
        self._spoken = spoken
        self._line = self._voice = voice_for("auto")

    def heard(self, language: str) -> None:
        self._voice = self._voice_for(language if language in self._spoken else "auto")

    @property
    def sample_rate(self) -> int:
        return self._voice.sample_rate

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        voice, rate = self._voice, self._voice.sample_rate
        if isinstance(self._line, KeptPhrases) and self._line.keeps(text):
            voice = self._line
        # The caller's side read `sample_rate` before asking: the turn voice's.
        resampler = Resampler(voice.sample_rate, rate)
        async for chunk in voice.synthesize(text):
            yield resampler.process(chunk)
        if tail := resampler.flush():
            yield tail
