"""Digits mode: once the agent has asked for digits, the caller's next turn is heard as digits.

Callers read an order number or a ZIP in groups, with pauses between ("45 ... 72"), and a
recogniser left to itself writes what it guesses is a number ("36000", "$17,000") or stops
after the first digit. So for the turn after such a question the recogniser is prompted with
digits (speech/hints.py) and the endpointer waits `turns.digits_ms` at every pause; the turn
after that is heard as usual again.
"""

from __future__ import annotations

from bridge.agent.phrases import asks_for_digits
from bridge.audio.phone import PHONE_RATE
from bridge.dialplan.models import Dialplan
from bridge.speech.base import RecognitionHints, SpeechToText, Transcript, cores_busy
from bridge.speech.hints import hints_for


class DigitsMode:
    """One call's recogniser, which hears the next turn as digits after the agent asked."""

    def __init__(self, stt: SpeechToText, dialplan: Dialplan) -> None:
        self._words = stt
        # The same loaded model with the digit prompt in place of the line's vocabulary.
        self._digits = stt.for_call(hints_for(dialplan).model_copy(update={"digits": True}))
        self.on = False

    def agent_said(self, text: str) -> bool:
        """The agent's latest words: whether they ask for digits (and so the next turn is)."""
        self.on = asks_for_digits(text)
        return self.on

    @property
    def busy(self) -> bool:
        """The recogniser's cores are busy (`SharedCores`: speculation waits on it)."""
        return cores_busy(self._words)

    def for_call(self, hints: RecognitionHints) -> SpeechToText:
        """The line's recogniser with other hints (they decide about digits themselves)."""
        return self._words.for_call(hints)

    async def transcribe(self, pcm16: bytes, sample_rate: int = PHONE_RATE) -> Transcript:
        return await (self._digits if self.on else self._words).transcribe(pcm16, sample_rate)
