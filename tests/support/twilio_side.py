"""Reaching a bridge as Twilio does, by hand: for tests that send what the simulator never would."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from xml.etree import ElementTree

import aiohttp

from bridge.sim.calls import TwilioSide
from bridge.twilio import messages
from bridge.twilio.signature import sign_request


@dataclass
class Answered:
    """A call the voice webhook answered: where its stream goes and with what parameters."""

    call_sid: str
    stream_url: str
    parameters: dict[str, str]


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


async def answer_call(
    twilio: TwilioSide, http: aiohttp.ClientSession, caller: str = "+15555550123"
) -> Answered:
    """POST a signed voice webhook, as Twilio does for an incoming call."""
    call_sid = new_call_sid()
    form = {"CallSid": call_sid, "From": caller, "To": "+15555550100"}
    url = f"{twilio.bridge_url}/twilio/voice"
    headers = {"X-Twilio-Signature": sign_request(twilio.auth_token, url, form)}
    async with http.post(url, data=form, headers=headers) as response:
        assert response.status == 200
        twiml = ElementTree.fromstring(await response.text())
    stream = twiml.find("./Connect/Stream")
    assert stream is not None
    parameters = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return Answered(call_sid, stream.get("url", ""), parameters)


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
    stream_sid = "MZ" + secrets.token_hex(16)
    await ws.send_str(messages.connected_message())
    await ws.send_str(
        messages.start_message(
            stream_sid, answered.call_sid, twilio.account_sid, answered.parameters
        )
    )
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
