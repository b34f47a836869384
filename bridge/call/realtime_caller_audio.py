"""The caller's mu-law on its way to the model: held back into batches (each message to the
model costs far more than the bytes it carries), and heard by the bridge's own turn detector
when the dialplan says the bridge decides the turns (`turn_detection: bridge`).
"""

from __future__ import annotations

from collections.abc import Iterator

from bridge.audio.codec import ulaw_to_pcm16
from bridge.audio.framing import Framer
from bridge.audio.phone import PHONE_RATE, ULAW_FRAME
from bridge.audio.turns import TurnEvent
from bridge.audio.vad import TurnDetector
from bridge.dialplan.models import TurnSettings


class CallerAudio:
    def __init__(self, batch_ms: int, own_turns: TurnSettings | None) -> None:
        self._batch_bytes = PHONE_RATE * batch_ms // 1000
        self._held = bytearray()
        self._detector = TurnDetector(own_turns) if own_turns is not None else None
        self._framer = Framer(ULAW_FRAME)

    @property
    def own_turns(self) -> bool:
        return self._detector is not None

    def add(self, ulaw: bytes) -> bytes:
        """Hold `ulaw`; returns the batch to send once enough is held (else b"")."""
        self._held += ulaw
        return self.take() if len(self._held) >= self._batch_bytes else b""

    def take(self) -> bytes:
        """Everything held (sent early when a turn ends)."""
        batch, self._held = bytes(self._held), bytearray()
        return batch

    def turn_events(self, ulaw: bytes) -> Iterator[TurnEvent]:
        """What the bridge's own detector makes of `ulaw` (nothing when the model decides)."""
        if self._detector is None:
            return
        for frame in self._framer.push(ulaw):
            event = self._detector.push(ulaw_to_pcm16(frame))
            if event is not None:
                yield event
