"""Speaks reply pieces to the caller: TTS -> 8 kHz mu-law -> `media`, then a `mark` per piece.

A voice that hangs without raising would leave the line silent for good: each piece's audio
must keep coming, the first chunk within `stall_ms` of asking and each next one within
`stall_ms` of the last, or the piece fails with a TimeoutError (the reply says so).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from bridge.audio.codec import pcm16_to_ulaw
from bridge.audio.phone import PHONE_RATE
from bridge.audio.resample import Resampler
from bridge.call.playback import MediaClock, PlaybackTracker, SpokenPiece
from bridge.call.speakable import make_speakable
from bridge.speech.base import TextToSpeech

# The mark that closes a whole reply: a caller's side (our simulator) learns from its echo
# that the agent has finished talking, not just paused between sentences.
REPLY_END_SUFFIX = ".end"


class AudioSink(Protocol):
    """The caller's side of the line (the Twilio media socket implements it)."""

    async def send_audio(self, ulaw: bytes) -> None: ...

    async def send_mark(self, name: str) -> None: ...

    async def clear(self) -> None: ...


class Speaker:
    """Turns text into audio on the line and tells the tracker what was sent."""

    def __init__(
        self,
        tts: TextToSpeech,
        sink: AudioSink,
        tracker: PlaybackTracker,
        clock: MediaClock,
        floor_free: asyncio.Event,
        stall_ms: int = 0,  # 0: wait for the voice as long as it takes
    ) -> None:
        self._tts = tts
        self._sink = sink
        self._tracker = tracker
        self._clock = clock
        # Cleared while the caller is talking: a reply waits rather than talk over them.
        self._floor_free = floor_free
        self._stall_s = stall_ms / 1000 or None
        self._pieces = 0

    async def say(
        self,
        reply_id: int,
        text: str,
        line: asyncio.Lock,
        on_first_audio: Callable[[], None] = lambda: None,
        on_first_media: Callable[[], None] = lambda: None,
        wanted: Callable[[], bool] = lambda: True,
    ) -> bool:
        """Speak one piece; True once its audio and mark are on the wire, False when the caller
        started talking over it (then the rest of its audio was never sent).

        `line` is held from the piece's first audio to its end, not while the voice is still
        silent: a filler (kept audio) can play meanwhile, and never inside another piece.
        A piece no longer `wanted` once it has the line is dropped unsaid (a filler whose
        reply began while it waited)."""
        spoken = make_speakable(text)
        if not spoken.strip():
            return True
        await self._floor_free.wait()
        resampler = Resampler(self._tts.sample_rate, PHONE_RATE)
        self._pieces += 1
        piece = SpokenPiece(f"r{reply_id}.{self._pieces}", text, 0.0, reply_id)
        holding = False
        try:
            async with asyncio.timeout(self._stall_s) as stall:
                async for pcm in self._tts.synthesize(spoken):
                    if not holding:
                        await line.acquire()
                        holding = True
                        if not wanted():
                            return True
                    if not self._floor_free.is_set():
                        return False
                    on_first_audio()
                    await self._send(piece, resampler.process(pcm), on_first_media)
                    if self._stall_s is not None:
                        stall.reschedule(asyncio.get_running_loop().time() + self._stall_s)
            # The resampler's filter holds the last few milliseconds until the stream ends.
            await self._send(piece, resampler.flush(), on_first_media)
            await self._mark(piece)
        except Exception:
            await self._mark(piece)  # the audio sent still plays: its mark says when it has
            raise
        finally:
            if holding:
                line.release()
        return True

    async def _mark(self, piece: SpokenPiece) -> None:
        if piece.audio_ms:
            piece.marked = True
            await self._sink.send_mark(piece.mark)

    async def _send(
        self, piece: SpokenPiece, pcm: bytes, on_first_media: Callable[[], None]
    ) -> None:
        ulaw = pcm16_to_ulaw(pcm)
        if not ulaw:
            return
        if not piece.audio_ms:
            # Playing from its first audio on, so a barge-in can cut it mid-synthesis.
            self._tracker.sent(piece, self._clock.now_ms)
        await self._sink.send_audio(ulaw)
        on_first_media()
        piece.audio_ms += len(ulaw) * 1000 / PHONE_RATE

    async def end_reply(self, reply_id: int) -> None:
        """Mark the end of a reply; Twilio echoes it once everything before it has played."""
        await self._sink.send_mark(f"r{reply_id}{REPLY_END_SUFFIX}")
