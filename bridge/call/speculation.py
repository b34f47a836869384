"""Speculative transcription: start STT when the caller falls silent, keep it if they stay so.

The turn detector says SilenceStarted on the first quiet frame and TurnEnded a silence window
later. Transcribing from the first moment hides STT inside that window; if speech resumes the
result is thrown away. Until then the turn's audio only grows by silence, so the speculation
is used when the final audio starts with exactly the audio it heard.

Most pauses inside a sentence are a single quiet frame (a stop consonant): speech resumes
`onset_ms` (60 ms) later. A local recogniser cannot be stopped once its encoder runs, so each
of those costs a whole transcription (3-4 per line of the demo). When the recogniser's cores
are already busy, it is asked only once the pause has lasted SPECULATE_AFTER_S, which lets
those pauses resume first. That wait costs the real end of the turn nothing: started at once,
its transcription would share the cores with the running job until that one finished anyway.
An idle recogniser is asked at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Protocol

from bridge.speech.base import SpeechToText, Transcript, cores_busy

# Just over the resume debounce (TurnSettings.onset_ms, 60 ms by default) plus a frame.
SPECULATE_AFTER_S = 0.08


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
            self._transcribe(audio, SPECULATE_AFTER_S if cores_busy(self._stt) else 0.0),
            "speculative-stt",
            awaited=True,
        )
        return self._task

    async def _transcribe(self, audio: bytes, after_s: float) -> Transcript:
        if after_s:
            await asyncio.sleep(after_s)
        return await self._stt.transcribe(audio, self._rate)

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
