"""Reaching a bridge as Twilio does, by hand: for tests that send what the simulator never would."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

from bridge.sim.calls import TwilioSide
from bridge.sim.handshake import (
    InboundCall,
    Target,
    new_stream_sid,
    start_stream,
    stream_of,
)
from bridge.twilio.signature import sign_request


@dataclass
class Answered:
    """A call the voice webhook answered: where its stream goes and with what parameters."""

    call_sid: str
    stream_url: str
    parameters: dict[str, str]


def body_sha256(body: str) -> str:
    """Hex SHA-256 of a JSON webhook body, for the `bodySHA256` query parameter Twilio signs."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


async def answer_call(
    twilio: TwilioSide, http: aiohttp.ClientSession, caller: str = "+15555550123"
) -> Answered:
    """POST a signed voice webhook, as Twilio does for an incoming call."""
    call = InboundCall(Target(twilio.bridge_url, twilio.account_sid, twilio.auth_token), caller)
    stream = stream_of(await call.ring(http))
    assert stream is not None
    return Answered(call.call_sid, stream.url, stream.parameters)


async def open_media(
    twilio: TwilioSide, http: aiohttp.ClientSession, stream_url: str | None = None
) -> aiohttp.ClientWebSocketResponse:
    """A media socket signed like Twilio signs it (the `wss://` URL, no parameters)."""
    url = stream_url or twilio.bridge_url.replace("http://", "ws://") + "/twilio/media"
    signature = sign_request(twilio.auth_token, url, {})
    return await http.ws_connect(url, headers={"X-Twilio-Signature": signature})


async def send_start(
    ws: aiohttp.ClientWebSocketResponse, twilio: TwilioSide, answered: Answered
) -> str:
    stream_sid = new_stream_sid()
    await start_stream(ws, stream_sid, answered.call_sid, twilio.account_sid, answered.parameters)
    return stream_sid


@dataclass
class LiveStream:
    call_sid: str
    stream_sid: str
    ws: aiohttp.ClientWebSocketResponse


@asynccontextmanager
async def live_stream(twilio: TwilioSide) -> AsyncIterator[LiveStream]:
    """A call answered and its media stream started, held open until the block ends."""
    async with aiohttp.ClientSession() as http:
        answered = await answer_call(twilio, http)
        async with await open_media(twilio, http, answered.stream_url) as ws:
            stream_sid = await send_start(ws, twilio, answered)
            yield LiveStream(answered.call_sid, stream_sid, ws)
