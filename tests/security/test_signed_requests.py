"""Who may reach the agent: the signature matrix and media-socket checks, over HTTP against the
real app (`local_bridge`), with calls answered, refused, forged and replayed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType, web

from bridge.demo.local import LocalBridge, local_bridge
from bridge.sim.handshake import new_call_sid
from bridge.speech.factory import SpeechModels
from bridge.twilio.signature import sign_request
from tests.support.bridges import bridge_settings
from tests.support.loopback import serving
from tests.support.twilio_side import answer_call, body_sha256, open_media, send_start

pytestmark = pytest.mark.models

FORM = {"From": "+15555550123", "To": "+15555550100"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post_voice(
    http: aiohttp.ClientSession, url: str, form: dict[str, str], signature: str | None
) -> tuple[int, str]:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    async with http.post(url, data=form, headers=headers) as response:
        return response.status, await response.text()


async def test_signed_webhook_answers_with_a_stream_and_opens_the_record(
    bridge: LocalBridge, http: aiohttp.ClientSession
) -> None:
    url = f"{bridge.twilio.bridge_url}/twilio/voice"
    form = {"CallSid": new_call_sid(), **FORM}
    status, twiml = await post_voice(
        http, url, form, sign_request(bridge.twilio.auth_token, url, form)
    )
    assert status == 200 and "<Connect><Stream" in twiml and 'name="token"' in twiml
    assert await bridge.services.store.get(form["CallSid"]) is not None


@pytest.mark.parametrize("forgery", ["missing", "garbage", "other token", "other url", "tampered"])
async def test_unsigned_or_forged_webhooks_are_refused_before_anything_happens(
    bridge: LocalBridge, http: aiohttp.ClientSession, forgery: str
) -> None:
    url = f"{bridge.twilio.bridge_url}/twilio/voice"
    form = {"CallSid": new_call_sid(), **FORM}
    signature = {
        "missing": None,
        "garbage": "bm90IGEgc2lnbmF0dXJl",
        "other token": sign_request("0" * 32, url, form),
        "other url": sign_request(bridge.twilio.auth_token, url + "?x=1", form),
        "tampered": sign_request(bridge.twilio.auth_token, url, {**form, "From": "+1999"}),
    }[forgery]
    status, _ = await post_voice(http, url, form, signature)
    assert status == 403
    assert await bridge.services.store.get(form["CallSid"]) is None


async def test_json_body_webhooks_are_checked_through_their_body_hash(
    bridge: LocalBridge, http: aiohttp.ClientSession
) -> None:
    call_sid = new_call_sid()
    body = json.dumps({"CallSid": call_sid, **FORM})
    url = f"{bridge.twilio.bridge_url}/twilio/voice?bodySHA256={body_sha256(body)}"
    signature = sign_request(bridge.twilio.auth_token, url, body)
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/json"}
    async with http.post(
        url, data=body.replace("+15555550123", "+15035550142"), headers=headers
    ) as forged:
        assert forged.status == 403
    async with http.post(url, data=body, headers=headers) as signed:
        assert signed.status == 200 and "<Connect><Stream" in await signed.text()
    status_body = json.dumps({"CallSid": call_sid, "CallStatus": "completed"})
    status_url = f"{bridge.twilio.bridge_url}/twilio/status?bodySHA256={body_sha256(status_body)}"
    headers["X-Twilio-Signature"] = sign_request(bridge.twilio.auth_token, status_url, status_body)
    async with http.post(status_url, data=status_body, headers=headers) as status:
        assert status.status == 204
    record = await bridge.services.store.get(call_sid)
    assert record is not None and record.status == "completed"


@pytest.fixture
async def proxy(bridge: LocalBridge) -> AsyncIterator[str]:
    """A reverse proxy in front of the bridge: Twilio only knows the proxy's URL."""

    async def forward(request: web.Request) -> web.Response:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                bridge.twilio.bridge_url + request.path_qs,
                data=await request.read(),
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            ) as upstream:
                return web.Response(status=upstream.status, body=await upstream.read())

    app = web.Application()
    app.router.add_post("/{tail:.*}", forward)
    async with serving(app) as url:
        yield url


async def test_behind_a_proxy_the_public_url_is_what_counts(
    bridge: LocalBridge, proxy: str, http: aiohttp.ClientSession
) -> None:
    bridge.services.settings.public_base_url = proxy  # what Twilio is told to call
    form = {"CallSid": new_call_sid(), **FORM}
    public, local = f"{proxy}/twilio/voice", f"{bridge.twilio.bridge_url}/twilio/voice"
    token = bridge.twilio.auth_token
    assert (await post_voice(http, public, form, sign_request(token, public, form)))[0] == 200
    assert (await post_voice(http, public, form, sign_request(token, local, form)))[0] == 403


EXAMPLE = "https://bridge.example.com"


@pytest.mark.parametrize(
    ("public", "signed_for", "expected"),
    [
        (f"{EXAMPLE}:8443", f"{EXAMPLE}:8443/twilio/voice", 200),
        # The SDK also tries the URL without its port (Twilio may sign either form).
        (f"{EXAMPLE}:8443", f"{EXAMPLE}/twilio/voice", 200),
        (f"{EXAMPLE}:8443", f"{EXAMPLE}:9443/twilio/voice", 403),
        (f"{EXAMPLE}:8443", "http://bridge.example.com:8443/twilio/voice", 403),
        (EXAMPLE, f"{EXAMPLE}:443/twilio/voice", 200),
        (EXAMPLE, f"{EXAMPLE}:8443/twilio/voice", 403),
    ],
)
async def test_the_port_and_scheme_of_the_public_url_are_checked(
    bridge: LocalBridge, http: aiohttp.ClientSession, public: str, signed_for: str, expected: int
) -> None:
    bridge.services.settings.public_base_url = public
    form = {"CallSid": new_call_sid(), **FORM}
    signature = sign_request(bridge.twilio.auth_token, signed_for, form)
    url = f"{bridge.twilio.bridge_url}/twilio/voice"
    assert (await post_voice(http, url, form, signature))[0] == expected


async def test_unsigned_media_socket_is_refused_at_the_handshake(
    bridge: LocalBridge, http: aiohttp.ClientSession
) -> None:
    url = bridge.twilio.bridge_url.replace("http://", "ws://") + "/twilio/media"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(url, headers={"X-Twilio-Signature": "forged"})
    assert refused.value.status == 403


async def refused_at_start(ws: aiohttp.ClientWebSocketResponse) -> bool:
    """True when the bridge closes the socket without ever sending audio."""
    async with asyncio.timeout(10):
        message = await ws.receive()
    return message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)


async def test_token_of_another_call_is_refused_on_start(
    bridge: LocalBridge, http: aiohttp.ClientSession
) -> None:
    victim = await answer_call(bridge.twilio, http)
    forged = await answer_call(bridge.twilio, http)
    forged.parameters["token"] = victim.parameters["token"]
    async with await open_media(bridge.twilio, http) as ws:
        await send_start(ws, bridge.twilio, forged)
        assert await refused_at_start(ws)
    assert bridge.services.live == {}


async def test_replayed_media_socket_is_refused(
    bridge: LocalBridge, http: aiohttp.ClientSession
) -> None:
    answered = await answer_call(bridge.twilio, http)
    async with await open_media(bridge.twilio, http, answered.stream_url) as first:
        await send_start(first, bridge.twilio, answered)
        async with asyncio.timeout(10):
            greeting = await first.receive()  # the call is up: the greeting streams
        assert greeting.type is WSMsgType.TEXT and answered.call_sid in bridge.services.live
    async with await open_media(bridge.twilio, http, answered.stream_url) as replay:
        await send_start(replay, bridge.twilio, answered)
        assert await refused_at_start(replay)


async def test_message_over_64_kib_closes_the_socket(
    bridge: LocalBridge, http: aiohttp.ClientSession
) -> None:
    async with await open_media(bridge.twilio, http) as ws:
        await ws.send_str('{"event": "media", "pad": "' + "x" * 70_000 + '"}')
        async with asyncio.timeout(10):
            message = await ws.receive()
        assert message.type is WSMsgType.CLOSE
        assert message.data == WSCloseCode.MESSAGE_TOO_BIG


async def test_malformed_flood_closes_the_socket_as_a_policy_violation(
    bridge: LocalBridge, http: aiohttp.ClientSession
) -> None:
    async with await open_media(bridge.twilio, http) as ws:
        for _ in range(60):
            await ws.send_str("{not json")
        async with asyncio.timeout(10):
            message = await ws.receive()
        assert message.type is WSMsgType.CLOSE
        assert message.data == WSCloseCode.POLICY_VIOLATION


async def test_message_rate_flood_closes_the_socket(
    bridge: LocalBridge, http: aiohttp.ClientSession
) -> None:
    frame = json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
    async with await open_media(bridge.twilio, http) as ws:
        # 80 s of Twilio's rate, sent as fast as loopback goes (until the bridge hangs up).
        for _ in range(20_000):
            try:
                await ws.send_str(frame)
            except ConnectionError:
                break
        async with asyncio.timeout(10):
            message = await ws.receive()
        assert message.data == WSCloseCode.POLICY_VIOLATION


async def test_at_capacity_the_webhook_answers_with_the_dialplans_overflow(
    tmp_path: Path, speech: SpeechModels, http: aiohttp.ClientSession
) -> None:
    settings = bridge_settings(tmp_path, MAX_CONCURRENT_CALLS=1)
    async with local_bridge(settings, speech) as bridge:
        first = await answer_call(bridge.twilio, http)
        async with await open_media(bridge.twilio, http, first.stream_url) as ws:
            await send_start(ws, bridge.twilio, first)
            async with asyncio.timeout(10):
                await ws.receive()
            url = f"{bridge.twilio.bridge_url}/twilio/voice"
            form = {"CallSid": new_call_sid(), **FORM}
            signature = sign_request(bridge.twilio.auth_token, url, form)
            status, twiml = await post_voice(http, url, form, signature)
    assert status == 200 and "<Connect>" not in twiml
    assert "all our lines are busy" in twiml
    assert "<Sip>sip:support@acme-outfitters.sip.twilio.com</Sip>" in twiml


async def test_while_draining_new_calls_get_the_overflow(
    bridge: LocalBridge, http: aiohttp.ClientSession
) -> None:
    bridge.services.draining = True
    url = f"{bridge.twilio.bridge_url}/twilio/voice"
    form = {"CallSid": new_call_sid(), **FORM}
    status, twiml = await post_voice(
        http, url, form, sign_request(bridge.twilio.auth_token, url, form)
    )
    assert status == 200 and "all our lines are busy" in twiml and "<Connect>" not in twiml
