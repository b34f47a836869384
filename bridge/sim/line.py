"""The caller's end of a simulated phone line, on the stream's own clock.

Every 20 ms tick the line sends one inbound frame (caller speech, or silence) and plays 20 ms
of the agent's buffered audio, as a phone would. Marks are echoed only when the audio before
them has played, and all at once on `clear` (as Twilio does: then the audio was dropped):
`Playout` keeps that account, for this line and for the bench's callers, which keep no audio.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from bridge.audio.codec import pcm16_to_ulaw, ulaw_to_pcm16
from bridge.audio.phone import FRAME_MS, PCM_FRAME, ULAW_FRAME, ULAW_SILENCE

VOICED_LEVEL = 300  # PCM16 amplitude above which a sample counts as speech, not noise


@dataclass
class Tick:
    """What one tick produced: the frame to send and the marks to echo now."""

    frame: bytes
    echoes: list[str] = field(default_factory=list)


def _voiced_length(pcm16: bytes) -> int:
    """Bytes up to the last sample louder than background noise (TTS audio trails silence)."""
    samples = np.frombuffer(pcm16, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > VOICED_LEVEL)
    return int(loud[-1] + 1) * 2 if loud.size else 0


class Playout:
    """The agent's audio at the caller's phone, counted in bytes, and the marks it carries.

    A mark is echoed once the audio sent before it has played; on `clear` the audio is
    dropped and every pending mark is echoed at the next `play`.
    """

    def __init__(self) -> None:
        self.received = 0
        self.played = 0
        # Marks by position: how many agent bytes had arrived when each mark did.
        self._marks: deque[tuple[int, str]] = deque()
        self._due: list[str] = []  # marks to echo at the next play (after a clear)

    @property
    def buffered(self) -> int:
        """Bytes arrived and not yet played."""
        return self.received - self.played

    @property
    def playing(self) -> bool:
        return self.received > self.played or bool(self._marks)

    def media(self, n_bytes: int) -> None:
        self.received += n_bytes

    def mark(self, name: str) -> None:
        self._marks.append((self.received, name))

    def clear(self) -> None:
        self.played = self.received
        self._due.extend(name for _, name in self._marks)
        self._marks.clear()

    def play(self, n_bytes: int) -> list[str]:
        """Play up to `n_bytes` of what is buffered; the marks to echo now."""
        self.played += min(n_bytes, self.buffered)
        echoes, self._due = self._due, []
        while self._marks and self._marks[0][0] <= self.played:
            echoes.append(self._marks.popleft()[1])
        return echoes


class PhoneLine:
    def __init__(self) -> None:
        self.now_ms = 0
        self._speech = bytearray()  # caller mu-law still to send
        self._agent = bytearray()  # agent mu-law buffered, not yet played
        self._playout = Playout()
        self.caller_track = bytearray()  # PCM16 8 kHz, what was sent
        self.agent_track = bytearray()  # PCM16 8 kHz, what was played
        self.last_agent_audio_ms: int | None = None  # stream time agent audio last played
        self._agent_ticks = bytearray()  # per tick from the start: 1 if agent audio played
        self.agent_frames_received = 0

    # -- what the caller does -------------------------------------------------------------

    def speak(self, pcm16: bytes) -> int:
        """Queue the caller's audio; returns the stream time its last voiced frame ends."""
        voiced_ms = -(-_voiced_length(pcm16) // PCM_FRAME) * FRAME_MS
        end_ms = self.now_ms + (len(self._speech) // ULAW_FRAME) * FRAME_MS + voiced_ms
        self._speech += pcm16_to_ulaw(pcm16)
        return end_ms

    @property
    def caller_speaking(self) -> bool:
        return bool(self._speech)

    # -- what the bridge sends ------------------------------------------------------------

    def longest_silence_ms(self, since_ms: int) -> int:
        """The longest stretch without agent audio from `since_ms` to the last agent audio
        played (0 when none played since)."""
        ticks = bytes(self._agent_ticks[since_ms // FRAME_MS :])
        end = ticks.rfind(1)
        return max(len(run) for run in ticks[:end].split(b"\x01")) * FRAME_MS if end > 0 else 0

    def agent_media(self, ulaw: bytes) -> None:
        self._agent += ulaw
        self._playout.media(len(ulaw))
        self.agent_frames_received += 1

    def agent_mark(self, name: str) -> None:
        self._playout.mark(name)

    def clear(self) -> None:
        self._agent.clear()
        self._playout.clear()

    @property
    def agent_playing(self) -> bool:
        return self._playout.playing

    # -- one 20 ms step -------------------------------------------------------------------

    def tick(self) -> Tick:
        frame = bytes(self._speech[:ULAW_FRAME]) if self._speech else ULAW_SILENCE
        del self._speech[:ULAW_FRAME]
        frame = frame.ljust(ULAW_FRAME, b"\xff")
        played = bytes(self._agent[:ULAW_FRAME])
        del self._agent[:ULAW_FRAME]
        echoes = self._playout.play(len(played))
        self.caller_track += ulaw_to_pcm16(frame)
        self.agent_track += ulaw_to_pcm16(played.ljust(ULAW_FRAME, b"\xff"))
        if played:
            self.last_agent_audio_ms = self.now_ms
        self._agent_ticks.append(1 if played else 0)
        self.now_ms += FRAME_MS
        return Tick(frame=frame, echoes=echoes)
