"""How long the caller heard the agent, measured at the media stream.

Agent audio is placed on the inbound stream's clock as Twilio plays it: from when it was
sent, or after the audio before it. A `clear` drops what was not played yet; so does the end
of the stream. Written to the call record before the call closes, so the post-call step
(which starts when it closes) reads it.
"""

from __future__ import annotations

import logging

from bridge.audio.phone import PHONE_RATE
from bridge.call.recorder import LiveCall
from bridge.store.base import CallStore

log = logging.getLogger(__name__)

ULAW_BYTES_PER_MS = PHONE_RATE / 1000  # one byte a sample


class SpeechMeter:
    def __init__(self) -> None:
        self._now_ms = 0.0  # the inbound stream's clock
        self._played_until_ms = 0.0  # where the audio sent so far ends on that clock
        self._sent_ms = 0.0

    def tick(self, timestamp_ms: float) -> None:
        self._now_ms = timestamp_ms

    def agent(self, ulaw: bytes) -> None:
        ms = len(ulaw) / ULAW_BYTES_PER_MS
        self._played_until_ms = max(self._played_until_ms, self._now_ms) + ms
        self._sent_ms += ms

    def cleared(self) -> None:
        self._sent_ms -= self._unplayed_ms()
        self._played_until_ms = min(self._played_until_ms, self._now_ms)

    def heard_ms(self) -> int:
        return max(0, round(self._sent_ms - self._unplayed_ms()))

    def _unplayed_ms(self) -> float:
        return max(0.0, self._played_until_ms - self._now_ms)


class MeteredCall:
    """A live call whose stream clock feeds the meter; closing writes what was heard."""

    def __init__(self, call: LiveCall, meter: SpeechMeter, store: CallStore, call_sid: str):
        self._call = call
        self._meter = meter
        self._store = store
        self._call_sid = call_sid

    async def on_audio(self, ulaw: bytes, timestamp_ms: float) -> None:
        self._meter.tick(timestamp_ms)
        await self._call.on_audio(ulaw, timestamp_ms)

    async def on_dtmf(self, digit: str) -> None:
        await self._call.on_dtmf(digit)

    def on_mark(self, name: str) -> None:
        self._call.on_mark(name)

    async def close(self, reason: str) -> None:
        try:
            await self._store.add_agent_speech(self._call_sid, self._meter.heard_ms())
        except Exception:
            log.exception("the agent's speaking time of %s was not kept", self._call_sid)
        finally:
            await self._call.close(reason)
