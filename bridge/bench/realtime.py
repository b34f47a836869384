"""`bridge bench --realtime`: the realtime path's own figures, against the local stand-in.

The stand-in (in this process) stamps every audio delta with a number and keeps its send
time; the bridge passes the audio through untouched, so each bench caller reads the stamp off
the `media` frame it receives and times the bridge's relay. The stand-in also keeps when it
sent `speech_started` and every truncate, per connection; a caller learns its connection from
the first stamp it sees. That gives, besides the usual figures:

- relay: stand-in audio delta sent -> `media` frame read here: the bridge's added latency
  (including the wait for the server's loop to read the delta, which the server's own figure
  leaves out) plus the wait for this process's loop to read the frame (the stand-in and every
  call's pacer share it: keep the generator well below a core for this figure to be the
  bridge's),
- clear: stand-in `speech_started` sent -> `clear` received,
- truncate error: the truncate's `audio_end_ms` against the audio the caller had actually
  played of that reply when `clear` came.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field

from bridge.audio.phone import PHONE_RATE
from bridge.sim.fake_realtime import STAMP, STAMP_BYTES, FakeRealtime

# The stamp and its number fill the first 6 bytes: 8 base64 characters.
STAMP_CHARS = 8
SPEECH_STARTED_WITHIN_S = 2.0  # a clear this long after the last speech_started is not its


@dataclass
class RealtimeFigures:
    """What every call's probe collected (milliseconds)."""

    relay_ms: list[float] = field(default_factory=list)
    clear_ms: list[float] = field(default_factory=list)
    # (connection, ms of the reply played when clear came), in order per connection
    cleared_at: list[tuple[int, float]] = field(default_factory=list)

    def truncate_error_ms(self, stand_in: FakeRealtime) -> list[float]:
        """|audio_end_ms - played| for each barge-in, paired in order per connection."""
        played: dict[int, list[float]] = {}
        for connection, ms in self.cleared_at:
            played.setdefault(connection, []).append(ms)
        truncated: dict[int, list[int]] = {}
        for cut in stand_in.truncations:
            truncated.setdefault(cut.conversation, []).append(cut.audio_end_ms)
        errors = []
        for connection, plays in played.items():
            for ms, end_ms in zip(plays, truncated.get(connection, []), strict=False):
                errors.append(round(abs(end_ms - ms), 1))
        return errors


class RealtimeProbe:
    """One bench call's view of the stand-in."""

    def __init__(self, stand_in: FakeRealtime, figures: RealtimeFigures) -> None:
        self._stand_in = stand_in
        self._figures = figures
        self._connection = 0

    def media(self, payload: str) -> None:
        now = time.perf_counter()
        head = base64.b64decode(payload[:STAMP_CHARS])
        if len(head) < STAMP_BYTES or not head.startswith(STAMP):
            return
        sent = self._stand_in.stamps.pop(int.from_bytes(head[len(STAMP) :], "big"), None)
        if sent is None:
            return
        self._connection, sent_at = sent
        self._figures.relay_ms.append(round((now - sent_at) * 1000, 3))

    def clear(self, played_bytes: int) -> None:
        now = time.perf_counter()
        if not self._connection:
            return
        self._figures.cleared_at.append((self._connection, played_bytes * 1000 / PHONE_RATE))
        started = self._stand_in.speech_started.get(self._connection, [])
        if started and 0 <= now - started[-1] <= SPEECH_STARTED_WITHIN_S:
            self._figures.clear_ms.append(round((now - started[-1]) * 1000, 2))
