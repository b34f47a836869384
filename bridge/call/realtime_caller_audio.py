"""The caller's mu-law on its way to the model: held back into batches (each message to the
model costs far more than the bytes it carries), and heard by the bridge's own turn detector
when the dialplan says the bridge decides the turns (`turn_detection: bridge`).

While the caller may be talking, or the model may still be deciding whether their turn ended,
audio goes every `audio_batch_ms`. Once they have been quiet for longer than that decision
can take, it goes every `quiet_batch_ms`, and the first frame that may be speech sends what is
held at once, so the model hears a barge-in no later than it would have.
"""

from __future__ import annotations

from collections.abc import Iterator

from bridge.audio.codec import ulaw_to_pcm16
from bridge.audio.framing import Framer
from bridge.audio.phone import PHONE_RATE, ULAW_FRAME
from bridge.audio.turns import TurnEvent
from bridge.audio.ulaw_level import may_be_speech
from bridge.audio.vad import TurnDetector
from bridge.dialplan.models import Dialplan, TurnSettings

# Caller audio is batched as quiet only this long after the turn detection's longest wait.
QUIET_MARGIN_MS = 500


def _bytes(ms: int) -> int:
    return PHONE_RATE * ms // 1000


class CallerAudio:
    def __init__(
        self,
        batch_ms: int,
        own_turns: TurnSettings | None,
        *,
        quiet_batch_ms: int,
        quiet_after_ms: int,
    ) -> None:
        self._batch_bytes = _bytes(batch_ms)
        self._quiet_batch_bytes = max(_bytes(quiet_batch_ms), self._batch_bytes)
        self._quiet_after_bytes = _bytes(quiet_after_ms)
        self._since_sound = self._quiet_after_bytes  # the line starts quiet
        self._held = bytearray()
        self._detector = TurnDetector(own_turns) if own_turns is not None else None
        self._framer = Framer(ULAW_FRAME)

    @property
    def own_turns(self) -> bool:
        return self._detector is not None

    @property
    def quiet(self) -> bool:
        """Nothing that may be speech for longer than the model takes to end a turn."""
        return self._since_sound >= self._quiet_after_bytes

    def add(self, ulaw: bytes) -> bytes:
        """Hold `ulaw`; returns the batch to send once enough is held (else b"")."""
        woke = False
        if may_be_speech(ulaw):
            woke = self.quiet
            self._since_sound = 0
        else:
            self._since_sound += len(ulaw)
        self._held += ulaw
        limit = self._quiet_batch_bytes if self.quiet else self._batch_bytes
        return self.take() if woke or len(self._held) >= limit else b""

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


def caller_audio_of(dialplan: Dialplan) -> CallerAudio:
    settings, turns = dialplan.agent.realtime, dialplan.turns
    own_turns = turns if settings.turn_detection == "bridge" else None
    turn_end_ms = settings.longest_turn_end_ms(max(turns.silence_ms, turns.incomplete_ms))
    return CallerAudio(
        settings.audio_batch_ms,
        own_turns,
        quiet_batch_ms=settings.quiet_batch_ms,
        quiet_after_ms=turn_end_ms + QUIET_MARGIN_MS,
    )
