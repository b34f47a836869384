"""The bridge's own recording of a call: caller left, agent right, on the stream's clock.

The caller's audio is placed at its media `timestamp`. The agent's audio is placed where
Twilio plays it: from when it was sent (the stream's time then) or after the audio before it,
whichever is later. A `clear` drops what was scheduled past that moment, as Twilio drops it,
so what a barge-in cut off is not in the recording. Once the stream's time has passed a stretch
it cannot change any more; it is written out then, a second at a time, by a writer task that
does the file I/O in a thread; memory stays at a few seconds plus the agent audio sent ahead.

`RecordedCall` and a `TappedSink` wrap a live call and its sink, so the session itself does
not know it is recorded.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Protocol

from bridge.audio.codec import ulaw_to_pcm16
from bridge.audio.phone import PHONE_RATE
from bridge.audio.wav import interleave_stereo
from bridge.audio.wav_stream import WavAppender

log = logging.getLogger(__name__)

BYTES_PER_MS = PHONE_RATE * 2 // 1000  # PCM16 mono at 8 kHz
FLUSH_MS = 1000  # written out in pieces this long
AHEAD_LIMIT_MS = 300_000  # agent audio sent further ahead than this is left out
QUEUE_PIECES = 32  # pieces waiting for the disk; more means the disk is stuck
CLOSE_TIMEOUT_S = 10.0


class CallRecorder:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._caller = bytearray()  # PCM16 from self._base_ms on
        self._agent = bytearray()
        self._base_ms = 0.0  # stream time of the first sample not yet written out
        self._now_ms = 0.0  # the stream's time: the end of the latest caller audio
        self._agent_end_ms = 0.0  # where the next agent audio starts playing, at the earliest
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_PIECES)
        self._writer = asyncio.create_task(self._write_all(), name=f"recorder-{path.stem}")
        self._closed = False

    @property
    def backlog(self) -> int:
        """Pieces written out but not on disk yet."""
        return self._queue.qsize()

    def caller(self, ulaw: bytes, timestamp_ms: float) -> None:
        pcm = ulaw_to_pcm16(ulaw)
        _place(self._caller, self._offset(timestamp_ms), pcm)
        self._now_ms = max(self._now_ms, timestamp_ms + len(pcm) / BYTES_PER_MS)
        if self._now_ms - self._base_ms >= FLUSH_MS:
            self._flush(self._now_ms)

    def agent(self, ulaw: bytes) -> None:
        pcm = ulaw_to_pcm16(ulaw)
        start_ms = max(self._now_ms, self._agent_end_ms)
        if start_ms - self._now_ms > AHEAD_LIMIT_MS:
            return
        _place(self._agent, self._offset(start_ms), pcm)
        self._agent_end_ms = start_ms + len(pcm) / BYTES_PER_MS

    def cleared(self) -> None:
        """Twilio dropped the agent audio it had not played yet."""
        del self._agent[max(0, self._offset(self._now_ms)) :]
        self._agent_end_ms = min(self._agent_end_ms, self._now_ms)

    async def close(self) -> None:
        """Write out everything up to the stream's end, then close the file (bounded wait)."""
        if self._closed:
            return
        self._closed = True
        self._flush(self._now_ms)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self._queue.put(None)
                await asyncio.shield(self._writer)
        except TimeoutError:
            log.error("recording %s not fully written in %.0f s", self._path.name, CLOSE_TIMEOUT_S)
            self._writer.cancel()

    def _offset(self, ms: float) -> int:
        """Byte offset of stream time `ms` in the unwritten tracks (even: whole samples)."""
        return round((ms - self._base_ms) * PHONE_RATE / 1000) * 2

    def _flush(self, up_to_ms: float) -> None:
        size = self._offset(up_to_ms)
        if size <= 0:
            return
        left, right = bytes(self._caller[:size]), bytes(self._agent[:size])
        del self._caller[:size], self._agent[:size]
        self._base_ms += size / BYTES_PER_MS
        stereo = interleave_stereo(left.ljust(size, b"\0"), right.ljust(size, b"\0"))
        try:
            self._queue.put_nowait(stereo)
        except asyncio.QueueFull:
            left_out = size // BYTES_PER_MS
            log.error("recording %s: the disk is behind; %d ms left out", self._path.name, left_out)

    async def _write_all(self) -> None:
        try:
            wav = await asyncio.to_thread(WavAppender, self._path, PHONE_RATE, 2)
        except (OSError, ValueError):
            log.exception("recording %s could not be opened; the call is not recorded", self._path)
            while await self._queue.get() is not None:
                pass
            return
        try:
            while (piece := await self._queue.get()) is not None:
                await asyncio.to_thread(wav.write, piece)
        except OSError:
            log.exception("writing recording %s failed", self._path.name)
        finally:
            await asyncio.to_thread(wav.close)


def _place(track: bytearray, offset: int, pcm: bytes) -> None:
    """Put `pcm` at `offset` of `track`, silence before it if the track is shorter."""
    if offset < 0:  # older than what was written out already: only its newer part
        pcm, offset = pcm[-offset:], 0
    if len(track) < offset:
        track.extend(bytes(offset - len(track)))
    track[offset : offset + len(pcm)] = pcm


class LiveCall(Protocol):
    async def on_audio(self, ulaw: bytes, timestamp_ms: float) -> None: ...

    async def on_dtmf(self, digit: str) -> None: ...

    def on_mark(self, name: str) -> None: ...

    async def close(self, reason: str) -> None: ...


class RecordedCall:
    """A live call whose caller audio is recorded on its way in; closing closes the file."""

    def __init__(self, call: LiveCall, recorder: CallRecorder) -> None:
        self._call = call
        self._recorder = recorder

    async def on_audio(self, ulaw: bytes, timestamp_ms: float) -> None:
        self._recorder.caller(ulaw, timestamp_ms)
        await self._call.on_audio(ulaw, timestamp_ms)

    async def on_dtmf(self, digit: str) -> None:
        await self._call.on_dtmf(digit)

    def on_mark(self, name: str) -> None:
        self._call.on_mark(name)

    async def close(self, reason: str) -> None:
        try:
            await self._call.close(reason)
        finally:
            await self._recorder.close()
