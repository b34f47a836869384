"""Speculative transcription: start STT when the caller falls silent, keep it if they stay so.

The turn detector says SilenceStarted on the first quiet frame and TurnEnded a silence window
later. Transcribing from the first moment hides STT inside that window; if speech resumes the
result is thrown away. Until then the turn's audio only grows by silence, so the speculation
is used when the final audio starts with exactly the audio it heard.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Protocol

from bridge.speech.base import SpeechToText, Transcript


class OwnTask(Protocol):
    def __call__(
        self, coro: Coroutine[object, object, Transcript], name: str, *, awaited: bool
    ) -> asyncio.Task[Transcript]: ...


class SpeculativeTranscriber:
    def __init__(self, stt: SpeechToText, sample_rate: int, own: OwnTask) -> None:
        self._stt = stt
        self._rate = sample_rate
        # The session's task owner: whatever runs here is cancelled when the call closes.
        self._own = own
        self._audio = b""
        self._task: asyncio.Task[Transcript] | None = None

    def start(self, audio: bytes) -> asyncio.Task[Transcript]:
        """The caller fell silent: transcribe what the turn holds so far."""
        self.discard()
        self._audio = audio
        # Its failure is the turn's: `hear` reports it when it takes the transcript.
        self._task = self._own(
            self._stt.transcribe(audio, self._rate), "speculative-stt", awaited=True
        )
        return self._task

    def discard(self) -> None:
        """The caller went on (or the turn was dropped): the transcript is of the wrong audio."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def take(self, audio: bytes) -> asyncio.Task[Transcript] | None:
        """The transcription for the turn that ended with `audio`, if it heard that speech."""
        if self._task is None:
            return None
        if not audio.startswith(self._audio):
            self.discard()
            return None
        task, self._task = self._task, None
        return task
