"""A call's audio sink with a listener on the agent's side: the recorder and the speech meter
each need to know what was sent to Twilio and when Twilio was told to drop the rest, without
the session knowing they are there."""

from __future__ import annotations

from typing import Protocol

from bridge.call.speaker import AudioSink


class AgentAudioTap(Protocol):
    def agent(self, ulaw: bytes) -> None:
        """Agent audio on its way to Twilio."""
        ...

    def cleared(self) -> None:
        """Twilio drops the agent audio it has not played yet."""
        ...


class TappedSink:
    def __init__(self, sink: AudioSink, tap: AgentAudioTap) -> None:
        self._sink = sink
        self._tap = tap

    async def send_audio(self, ulaw: bytes) -> None:
        self._tap.agent(ulaw)
        await self._sink.send_audio(ulaw)

    async def send_mark(self, name: str) -> None:
        await self._sink.send_mark(name)

    async def clear(self) -> None:
        self._tap.cleared()
        await self._sink.clear()
