"""A hand-driven media stream, for tests that send what the simulator never would."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from xml.etree import ElementTree

import aiohttp

from bridge.sim.local import TwilioSide
from bridge.twilio import messages
from bridge.twilio.signature import sign_request


@dataclass
class RawStream:
    ws: aiohttp.ClientWebSocketResponse
    call_sid: str
    stream_sid: str
    seq: int = 1

    async def send_dtmf(self, digit: str) -> None:
        self.seq += 1
        await self.ws.send_str(messages.dtmf_message(self.stream_sid, self.seq, digit))


@asynccontextmanager
async def open_raw_stream(twilio: TwilioSide) -> AsyncIterator[RawStream]:
    """Answer a call through the signed webhook and open its signed media socket."""
    call_sid, stream_sid = "CA" + secrets.token_hex(16), "MZ" + secrets.token_hex(16)
    form = {"CallSid": call_sid, "From": "+15555550123", "To": "+15555550100"}
    url = f"{twilio.bridge_url}/twilio/voice"
    async with aiohttp.ClientSession() as http:
        headers = {"X-Twilio-Signature": sign_request(twilio.auth_token, url, form)}
        async with http.post(url, data=form, headers=headers) as response:
            twiml = ElementTree.fromstring(await response.text())
        stream = twiml.find("./Connect/Stream")
        assert stream is not None
        stream_url = stream.get("url", "")
        parameters = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
        signature = sign_request(twilio.auth_token, stream_url, {})
        async with http.ws_connect(stream_url, headers={"X-Twilio-Signature": signature}) as ws:
            await ws.send_str(messages.connected_message())
            await ws.send_str(
                messages.start_message(stream_sid, call_sid, twilio.account_sid, parameters)
            )
            yield RawStream(ws, call_sid, stream_sid)
