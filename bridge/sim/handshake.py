"""How Twilio opens an inbound call's media stream, written once for every simulated caller.

A signed voice webhook; the TwiML's `<Connect><Stream>` URL and `<Parameter>`s; a socket to
that URL signed like Twilio signs it (the `wss://` URL, no parameters); then `connected` and
`start`. What a caller sends after that (media, marks, DTMF, `stop`) is its own.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit
from xml.etree import ElementTree

import aiohttp

from bridge.twilio import messages
from bridge.twilio.signature import sign_request


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def new_stream_sid() -> str:
    return "MZ" + secrets.token_hex(16)


@dataclass(frozen=True)
class Stream:
    """Where the TwiML connects the call's media, and the parameters `start` carries back."""

    url: str
    parameters: dict[str, str]


def stream_of(twiml: str) -> Stream | None:
    """The `<Connect><Stream>` of a TwiML answer, or None (e.g. `<Reject>`)."""
    stream = ElementTree.fromstring(twiml).find("./Connect/Stream")
    if stream is None:
        return None
    parameters = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return Stream(stream.get("url", ""), parameters)


async def start_stream(
    ws: aiohttp.ClientWebSocketResponse,
    stream_sid: str,
    call_sid: str,
    account_sid: str,
    parameters: dict[str, str],
) -> None:
    """Twilio's first two messages on a media socket: `connected`, then `start`."""
    await ws.send_str(messages.connected_message())
    await ws.send_str(messages.start_message(stream_sid, call_sid, account_sid, parameters))


@dataclass(frozen=True)
class Target:
    """Where the bridge is, the Twilio account it trusts, and the number callers dial."""

    base_url: str
    account_sid: str
    auth_token: str
    called: str = "+15555550100"


@dataclass(frozen=True)
class InboundCall:
    """One call Twilio connects to the bridge, from `caller`: an inbound call, or (with the
    `voice_url` the bridge gave `calls.create`) one the bridge placed, answered."""

    target: Target
    caller: str = "+15555550123"
    call_sid: str = field(default_factory=new_call_sid)
    stream_sid: str = field(default_factory=new_stream_sid)
    voice_url: str = ""  # the URL to sign and post to; default: the target's /twilio/voice
    direction: str = "inbound"

    @property
    def account_sid(self) -> str:
        return self.target.account_sid

    async def ring(self, http: aiohttp.ClientSession) -> str:
        """POST the signed voice webhook Twilio sends for an incoming call; the TwiML answer."""
        url = self.voice_url or f"{self.target.base_url.rstrip('/')}/twilio/voice"
        form = {
            "CallSid": self.call_sid,
            "AccountSid": self.account_sid,
            "From": self.caller,
            "To": self.target.called,
            "CallStatus": "ringing" if self.direction == "inbound" else "in-progress",
            "Direction": self.direction,
            "ApiVersion": "2010-04-01",
        }
        headers = {"X-Twilio-Signature": sign_request(self.target.auth_token, url, form)}
        async with http.post(url, data=form, headers=headers) as response:
            body = await response.text()
            if response.status != 200:
                raise RuntimeError(f"voice webhook answered {response.status}: {body}")
            return body

    @asynccontextmanager
    async def media(
        self, http: aiohttp.ClientSession, stream: Stream
    ) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        """The call's media socket, signed for the TwiML's URL and started."""
        signature = sign_request(self.target.auth_token, stream.url, {})
        async with http.ws_connect(
            self._reachable(stream.url), headers={"X-Twilio-Signature": signature}
        ) as ws:
            await start_stream(
                ws, self.stream_sid, self.call_sid, self.account_sid, stream.parameters
            )
            yield ws

    def _reachable(self, stream_url: str) -> str:
        """Twilio dials the TwiML's public URL; we reach the same path on the given base."""
        base = urlsplit(self.target.base_url)
        scheme = "wss" if base.scheme == "https" else "ws"
        return urlunsplit((scheme, base.netloc, urlsplit(stream_url).path, "", ""))
