"""What the caller actually heard, known from Twilio's mark echoes.

Each spoken piece is followed by a `mark`. Twilio echoes a mark when the audio before it has
played, or at once after a `clear` (then the audio was dropped, not played). So a piece counts
as heard only when its mark comes back in order and no barge-in cleared it first; for the piece
cut by a barge-in we keep the words that fit in the time it had been playing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(slots=True)
class MediaClock:
    """The inbound stream's clock (Twilio media timestamps), set by the session on each frame.

    A shared holder rather than a callback into the session, so the speaker holds no
    reference back to the session and a finished call is freed without the cycle collector.
    """

    now_ms: float = 0.0


@dataclass
class SpokenPiece:
    mark: str
    text: str
    audio_ms: float
    reply_id: int
    marked: bool = False  # all its audio and its mark are on the wire


@dataclass
class Heard:
    """What one reply left in the caller's ears."""

    text: str
    interrupted: bool


class PlaybackTracker:
    """FIFO of pieces sent but not yet confirmed played, on the inbound stream's clock."""

    def __init__(self) -> None:
        self._pending: deque[SpokenPiece] = deque()
        self._heard: dict[int, list[str]] = {}
        self._interrupted: set[int] = set()
        # Stream time (ms) when the head of the queue started playing.
        self._head_started_ms = 0.0
        self._drained = asyncio.Event()
        self._drained.set()

    @property
    def playing(self) -> bool:
        return bool(self._pending)

    def sent(self, piece: SpokenPiece, now_ms: float) -> None:
        if not self._pending:
            self._head_started_ms = now_ms
        self._pending.append(piece)
        self._heard.setdefault(piece.reply_id, [])
        self._drained.clear()

    def echoed(self, mark: str, now_ms: float) -> bool:
        """A mark came back; True when it confirmed a piece (late or unknown names are ignored)."""
        if not self._pending or self._pending[0].mark != mark:
            return False
        piece = self._pending.popleft()
        if piece.reply_id in self._heard:  # else its reply was already closed
            self._heard[piece.reply_id].append(piece.text)
        self._head_started_ms = now_ms
        if not self._pending:
            self._drained.set()
        return True

    def interrupt(self, now_ms: float) -> list[SpokenPiece]:
        """A barge-in cleared Twilio's buffer: keep the part of the head piece that had played.

        Returns the pieces cleared, the one cut first.
        """
        if not self._pending:
            return []
        cleared = list(self._pending)
        head = self._pending[0]
        played_ms = max(0.0, now_ms - self._head_started_ms)
        partial = words_within(head.text, played_ms / head.audio_ms if head.audio_ms else 0.0)
        if partial and head.reply_id in self._heard:
            self._heard[head.reply_id].append(partial)
        for piece in self._pending:
            self._interrupted.add(piece.reply_id)
        self._pending.clear()
        self._drained.set()
        return cleared

    def resumed(self, reply_id: int) -> None:
        """A false interruption: the reply goes on, so it does not count as interrupted."""
        self._interrupted.discard(reply_id)

    def take(self, reply_id: int) -> Heard:
        """Forget a reply and return what of it was heard."""
        parts = self._heard.pop(reply_id, [])
        interrupted = reply_id in self._interrupted
        self._interrupted.discard(reply_id)
        return Heard(text=" ".join(parts).strip(), interrupted=interrupted)

    async def drained(self) -> None:
        await self._drained.wait()


def words_within(text: str, fraction: float) -> str:
    """The leading words of `text` that fit in `fraction` of its audio (rounded down)."""
    words = text.split()
    keep = int(len(words) * min(1.0, fraction))
    return " ".join(words[:keep])
