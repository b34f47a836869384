"""`/healthz` and `/readyz` over HTTP against the real app."""

from __future__ import annotations

import aiohttp
import pytest

from bridge.demo.local import LocalBridge
from bridge.health import RETRY_ELSEWHERE
from bridge.sim.handshake import new_call_sid
from bridge.twilio.signature import sign_request


async def get_json(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def test_ready_when_speech_and_store_answer(instant_bridge: LocalBridge) -> None:
    status, body = await get_json(instant_bridge.twilio.bridge_url + "/readyz")
    assert status == 200
    assert body["checks"] == {"speech": "ok", "store": "ok", "draining": "ok"}
    assert body["instance"] == "test-instance"


async def test_draining_instance_is_alive_but_not_ready(instant_bridge: LocalBridge) -> None:
    instant_bridge.services.draining = True
    ready_status, ready = await get_json(instant_bridge.twilio.bridge_url + "/readyz")
    alive_status, _ = await get_json(instant_bridge.twilio.bridge_url + "/healthz")
    assert ready_status == 503
    assert ready["checks"]["draining"] == "draining"  # type: ignore[index]
    assert alive_status == 200


async def test_unreachable_store_makes_the_instance_not_ready(instant_bridge: LocalBridge) -> None:
    await instant_bridge.services.store.close()
    status, body = await get_json(instant_bridge.twilio.bridge_url + "/readyz")
    assert status == 503
    assert body["checks"]["store"] == "unreachable"  # type: ignore[index]


async def test_a_draining_instance_hands_new_calls_back_to_a_proxy_that_can_retry(
    instant_bridge: LocalBridge,
) -> None:
    twilio = instant_bridge.twilio
    instant_bridge.services.draining = True
    form = {
        "CallSid": new_call_sid(),
        "From": "+15555550123",
        "To": "+15555550100",
        "CallStatus": "completed",
    }

    async def post(path: str, **headers: str) -> tuple[int, str]:
        url = twilio.bridge_url + path
        headers["X-Twilio-Signature"] = sign_request(twilio.auth_token, url, form)
        async with aiohttp.ClientSession() as http, http.post(url, data=form, headers=headers) as r:
            return r.status, await r.text()

    status, _ = await post("/twilio/voice", **{RETRY_ELSEWHERE: "1"})
    assert status == 503
    status, twiml = await post("/twilio/voice")  # straight from Twilio: the busy answer
    assert status == 200 and "all our lines are busy" in twiml
    status, _ = await post("/twilio/status", **{RETRY_ELSEWHERE: "1"})
    assert status == 204  # not a new call: answered here as ever
    media = twilio.bridge_url.replace("http://", "ws://") + "/twilio/media"
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(media, headers={RETRY_ELSEWHERE: "1"})
    assert refused.value.status == 503
