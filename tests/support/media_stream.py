"""A media stream played by hand as Twilio plays it (marks echoed, keys pressed, `stop` at the
end), and waiting on a call's record: for tests of what happens across a call's streams."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from itertools import count

import aiohttp

from bridge.demo.local import LocalBridge
from bridge.records import CallRecord
from bridge.sim.handshake import new_stream_sid, start_stream
from bridge.twilio.messages import (
    dtmf_message,
    inbound_media_message,
    mark_echo_message,
    stop_message,
)
from tests.support.twilio_side import open_media

WAIT_S = 15.0


class Caller:
    """What the caller does on a stream: keys, and 20 ms frames of audio at stream times."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, stream_sid: str, seq: count) -> None:
        self._ws = ws
        self._stream_sid = stream_sid
        self._seq = seq
        self._chunk = count(1)

    async def __call__(self, digit: str) -> None:
        await self._ws.send_str(dtmf_message(self._stream_sid, next(self._seq), digit))

    async def audio(self, ulaw: bytes, timestamp_ms: int) -> None:
        payload = base64.b64encode(ulaw).decode("ascii")
        frame = inbound_media_message(
            self._stream_sid, next(self._seq), next(self._chunk), timestamp_ms, payload
        )
        await self._ws.send_str(frame)


@asynccontextmanager
async def stream(
    bridge: LocalBridge, http: aiohttp.ClientSession, call_sid: str, url: str, params: dict
) -> AsyncIterator[Caller]:
    """A media stream as Twilio plays it: marks echoed; yields the caller (call it with a key
    to press one); `stop` at the end."""
    twilio = bridge.twilio
    stream_sid, seq = new_stream_sid(), count(3)
    async with await open_media(twilio, http, url) as ws:
        await start_stream(ws, stream_sid, call_sid, twilio.account_sid, params)

        async def echo_marks() -> None:
            async for frame in ws:
                message = json.loads(frame.data)
                if message["event"] == "mark":
                    name = message["mark"]["name"]
                    await ws.send_str(mark_echo_message(stream_sid, next(seq), name))

        echo = asyncio.create_task(echo_marks())

        try:
            yield Caller(ws, stream_sid, seq)
        finally:
            stop = stop_message(stream_sid, next(seq), call_sid, twilio.account_sid)
            await ws.send_str(stop)
            await asyncio.wait_for(echo, WAIT_S)


async def record_when(
    bridge: LocalBridge, call_sid: str, done: Callable[[CallRecord], bool]
) -> CallRecord:
    async with asyncio.timeout(WAIT_S):
        while True:
            record = await bridge.services.store.get(call_sid)
            if record is not None and done(record):
                return record
            await asyncio.sleep(0.05)
