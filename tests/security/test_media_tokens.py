"""The per-call media token, attacked over HTTP against the real app: spent on one instance and
replayed on another, minted again by a replayed webhook for a call that has ended, and a
stream that claims to come from another caller than the signed webhook said."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import WSMsgType

from bridge.demo.local import LocalBridge, local_bridge
from bridge.sim.calls import fresh_credentials
from bridge.speech.factory import load_speech
from bridge.twilio.signature import sign_request
from tests.support.bridges import bridge_settings
from tests.support.keyed_calls import keyed_turn, playing, quick_dialplans
from tests.support.twilio_side import Answered, answer_call, open_media, send_start

STRANGER = "+15555550123"  # on no order
CUSTOMER = "+15035550142"  # the phone number on order 4572


@asynccontextmanager
async def instance(
    tmp_path: Path, credentials: tuple[str, str] | None = None
) -> AsyncIterator[LocalBridge]:
    """A bridge with instant speech (no model) and a short greeting; instances given one
    `tmp_path` share a store."""
    settings = bridge_settings(
        tmp_path, quick_dialplans(tmp_path), STT_PROVIDER="instant", TTS_PROVIDER="instant"
    )
    speech = load_speech(settings)
    try:
        async with local_bridge(settings, speech, credentials) as bridge:
            yield bridge
    finally:
        speech.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def first_frame(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMessage:
    async with asyncio.timeout(10):
        return await ws.receive()


def closed(message: aiohttp.WSMessage) -> bool:
    return message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)


async def test_a_token_spent_on_one_instance_is_refused_on_another(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    credentials = fresh_credentials()  # every instance of a deployment has the account's
    async with instance(tmp_path, credentials) as a, instance(tmp_path, credentials) as b:
        answered = await answer_call(a.twilio, http)
        async with await open_media(a.twilio, http) as real:
            await send_start(real, a.twilio, answered)
            assert (await first_frame(real)).type is WSMsgType.TEXT  # the call is up on A
            # The attacker replays the same start, token and all, on instance B.
            async with await open_media(b.twilio, http) as replay:
                await send_start(replay, b.twilio, answered)
                assert closed(await first_frame(replay))
        assert answered.call_sid not in b.services.live


async def test_a_token_is_good_on_any_instance_once(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    credentials = fresh_credentials()
    async with instance(tmp_path, credentials) as a, instance(tmp_path, credentials) as b:
        answered = await answer_call(a.twilio, http)  # the webhook reached A
        async with await open_media(b.twilio, http) as stream:  # the socket reached B
            await send_start(stream, b.twilio, answered)
            assert (await first_frame(stream)).type is WSMsgType.TEXT
            assert answered.call_sid in b.services.live


async def post_status(bridge: LocalBridge, http: aiohttp.ClientSession, call_sid: str) -> None:
    url = f"{bridge.twilio.bridge_url}/twilio/status"
    form = {"CallSid": call_sid, "CallStatus": "completed"}
    headers = {"X-Twilio-Signature": sign_request(bridge.twilio.auth_token, url, form)}
    async with http.post(url, data=form, headers=headers) as response:
        assert response.status == 204


async def test_a_replayed_webhook_mints_no_token_for_a_call_that_has_ended(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with instance(tmp_path) as bridge:
        answered = await answer_call(bridge.twilio, http, caller=STRANGER)
        await post_status(bridge, http, answered.call_sid)  # Twilio: the call completed
        # The attacker captured the signed webhook and posts it again, byte for byte.
        url = f"{bridge.twilio.bridge_url}/twilio/voice"
        form = {"CallSid": answered.call_sid, "From": STRANGER, "To": "+15555550100"}
        headers = {"X-Twilio-Signature": sign_request(bridge.twilio.auth_token, url, form)}
        async with http.post(url, data=form, headers=headers) as replayed:
            assert replayed.status == 409
            assert "<Stream" not in await replayed.text()
        # And the token issued while the call was live opens nothing now it has ended.
        async with await open_media(bridge.twilio, http) as ws:
            await send_start(ws, bridge.twilio, answered)
            assert closed(await first_frame(ws))
        record = await bridge.services.store.get(answered.call_sid)
        assert record is not None and record.status == "completed" and record.turns == []


async def test_the_caller_is_who_the_signed_webhook_says_not_what_the_stream_claims(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async with instance(tmp_path) as bridge:
        answered = await answer_call(bridge.twilio, http, caller=STRANGER)
        # The stream claims the customer's number, hoping to hear their order unverified.
        forged = Answered(
            answered.call_sid,
            answered.stream_url,
            {**answered.parameters, "from": CUSTOMER, "to": "+15555550100"},
        )
        async with await open_media(bridge.twilio, http) as ws:
            stream_sid = await send_start(ws, bridge.twilio, forged)
            async with playing(ws):
                turn = await keyed_turn(bridge, ws, stream_sid, "4572#", answered.call_sid)
        record = await bridge.services.store.get(answered.call_sid)
    assert "shipped" not in turn.agent.lower()
    assert "zip" in turn.agent.lower()  # a stranger must give the order's ZIP first
    checks = [tool for tool in turn.tools if tool.name == "check_order_status"]
    assert checks and checks[0].result.get("error") == "verification required"
    assert record is not None and record.from_number == STRANGER
