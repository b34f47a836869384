"""How much of each model audio item the caller actually heard, from Twilio's mark echoes.

A speech-to-speech model sends its audio faster than real time, so most of it sits in Twilio's
buffer. The audio we pass on is cut into segments, each closed by a mark (one every few
hundred ms, not one per delta: a mark is a message too); a mark echoed means its segment
played. On a barge-in, the segment at the head had been playing since the previous echo, so
the time heard is the echoed segments plus that (capped at the segment's length). That is the
`audio_end_ms` that makes the model forget what the caller never heard.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from bridge.call.playback import words_within


@dataclass(slots=True)
class _Segment:
    item_id: str
    ms: float = 0.0
    mark: str = ""  # empty while the segment is still growing


@dataclass(slots=True)
class ItemAudio:
    """One assistant item: its audio sent and played, and its transcript."""

    sent_ms: float = 0.0
    played_ms: float = 0.0
    text: str = ""
    cut: bool = False

    def heard(self) -> str:
        """The words of the transcript that fit in the audio played (all, if it finished)."""
        if not self.cut:
            return self.text
        return words_within(self.text, self.played_ms / self.sent_ms if self.sent_ms else 0.0)


@dataclass(frozen=True, slots=True)
class Cut:
    """An item a barge-in cut: the model should keep only `audio_end_ms` of it."""

    item_id: str
    audio_end_ms: int


@dataclass
class AudioLedger:
    items: dict[str, ItemAudio] = field(default_factory=dict)
    _pending: deque[_Segment] = field(default_factory=deque)
    _head_started_ms: float = 0.0
    _drained: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._drained.set()

    @property
    def playing(self) -> bool:
        return bool(self._pending)

    def item(self, item_id: str) -> ItemAudio:
        found = self.items.get(item_id)
        if found is None:
            found = self.items[item_id] = ItemAudio()
        return found

    def open_segment(self) -> tuple[str, float] | None:
        """The item and length of the segment still waiting for its mark, if any."""
        tail = self._pending[-1] if self._pending else None
        return (tail.item_id, tail.ms) if tail is not None and not tail.mark else None

    def sent(self, item_id: str, ms: float, now_ms: float) -> None:
        """Audio of `item_id` went out: it grows the open segment (close it first when the
        item changes), or opens one."""
        tail = self._pending[-1] if self._pending else None
        if tail is None or tail.mark or tail.item_id != item_id:
            if not self._pending:
                self._head_started_ms = now_ms
            tail = _Segment(item_id)
            self._pending.append(tail)
        tail.ms += ms
        self.item(item_id).sent_ms += ms
        self._drained.clear()

    def marked(self, mark: str) -> None:
        """The mark that closes the open segment went out."""
        if self._pending and not self._pending[-1].mark:
            self._pending[-1].mark = mark

    def echoed(self, mark: str, now_ms: float) -> None:
        """A mark came back in order: its segment played (others are late or unknown: ignored)."""
        if not self._pending or self._pending[0].mark != mark:
            return
        chunk = self._pending.popleft()
        self.item(chunk.item_id).played_ms += chunk.ms
        self._head_started_ms = now_ms
        if not self._pending:
            self._drained.set()

    def interrupt(self, now_ms: float) -> list[Cut]:
        """Twilio's buffer was cleared: what of each unfinished item had played."""
        if not self._pending:
            return []
        head = self._pending[0]
        self.item(head.item_id).played_ms += min(head.ms, max(0.0, now_ms - self._head_started_ms))
        cut_ids = list(dict.fromkeys(chunk.item_id for chunk in self._pending))
        self._pending.clear()
        self._drained.set()
        cuts = []
        for item_id in cut_ids:
            item = self.items[item_id]
            item.cut = True
            cuts.append(Cut(item_id, int(item.played_ms)))
        return cuts

    async def drained(self) -> None:
        await self._drained.wait()
