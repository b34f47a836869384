"""The model's audio on its way to the caller: `media` frames as the deltas come, a mark every
`MARK_EVERY_MS` of it, and the ledger of how much of each item has played.

A mark is a message each way (sent, then echoed), and each costs the server more CPU than the
bytes of a delta, so the audio is not marked per delta: the ledger times a cut inside a segment
from the last echo (`AudioLedger`). The first mark of a burst comes sooner (`FIRST_MARK_MS`):
its echo tells the ledger when Twilio actually started playing, which the send time only
approximates (the network and Twilio's buffer lie between).
"""

from __future__ import annotations

from itertools import count

from bridge.call.audio_ledger import AudioLedger, Cut
from bridge.call.speaker import PHONE_RATE, REPLY_END_SUFFIX, AudioSink

# A mark closes every this much of the model's audio (and each item, and each response)...
MARK_EVERY_MS = 1000.0
# ... and the first segment of audio sent to a silent line, this much.
FIRST_MARK_MS = 200.0


class ModelPlayout:
    def __init__(self, sink: AudioSink) -> None:
        self.ledger = AudioLedger()
        self._sink = sink
        self._marks = count(1)
        self._replies = count(1)
        self._segment_ms = FIRST_MARK_MS  # the length at which the open segment is marked

    @property
    def playing(self) -> bool:
        return self.ledger.playing

    async def send(self, item_id: str, ulaw: bytes, now_ms: float) -> None:
        """Pass a delta of `item_id` on as it is (closing the open segment if the item changed)."""
        open_segment = self.ledger.open_segment()
        if open_segment is not None and open_segment[0] != item_id:
            await self.mark()
        if not self.ledger.playing:
            self._segment_ms = FIRST_MARK_MS
        await self._sink.send_audio(ulaw)
        self.ledger.sent(item_id, len(ulaw) * 1000 / PHONE_RATE, now_ms)
        open_segment = self.ledger.open_segment()
        if open_segment is not None and open_segment[1] >= self._segment_ms:
            await self.mark()
            self._segment_ms = MARK_EVERY_MS

    async def mark(self) -> None:
        """Close the open segment with a mark: its echo says the segment has played."""
        if self.ledger.open_segment() is not None:
            mark = f"a{next(self._marks)}"
            await self._sink.send_mark(mark)
            self.ledger.marked(mark)

    async def reply_ended(self) -> None:
        """A mark whose echo tells the caller's side (our simulator) the agent finished."""
        await self._sink.send_mark(f"r{next(self._replies)}{REPLY_END_SUFFIX}")

    def echoed(self, mark: str, now_ms: float) -> None:
        self.ledger.echoed(mark, now_ms)

    async def clear(self, now_ms: float) -> list[Cut]:
        """Empty Twilio's buffer; returns what of each unfinished item had played."""
        await self._sink.clear()
        return self.ledger.interrupt(now_ms)

    async def drained(self) -> None:
        """Until everything sent so far has played, by the marks."""
        await self.ledger.drained()
