"""Placing calls over `/api/calls`: what reaches Twilio's `calls.create`, what is refused and
why, and the outcomes kept when nobody answers (instant speech: no models)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bridge.demo.local import LocalBridge, local_bridge
from bridge.records import CallRecord
from bridge.sim.callee import Callee, CalleePlayer
from bridge.twilio.signature import sign_request
from tests.support.bridges import bridge_settings

VARIABLES = {"name": "Dana", "order_id": "4572"}


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[LocalBridge]:
    settings = bridge_settings(tmp_path, STT_PROVIDER="instant", TTS_PROVIDER="instant")
    async with local_bridge(settings) as running:
        running.twilio.api.player = CalleePlayer(
            running.twilio.account_sid,
            running.twilio.auth_token,
            running.services.speech.caller_tts,
            speed=20.0,
            admin_token=running.twilio.admin_token,
        )
        yield running


async def post_call(bridge: LocalBridge, body: object, token: str | None = None) -> tuple[int, str]:
    token = bridge.twilio.admin_token if token is None else token
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{bridge.twilio.bridge_url}/api/calls",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            return response.status, await response.text()


async def finished(bridge: LocalBridge, call_sid: str) -> CallRecord:
    placed = bridge.twilio.api.placed[call_sid]
    await asyncio.wait_for(placed.done.wait(), timeout=30)
    for _ in range(100):
        record = await bridge.services.store.get(call_sid)
        assert record is not None
        if record.status != "active" and record.outcome:
            break
        await asyncio.sleep(0.02)
    return record


async def test_a_call_placed_over_the_api_asks_twilio_for_async_amd_and_our_webhooks(
    bridge: LocalBridge,
) -> None:
    bridge.twilio.api.player.default = Callee(kind="no_answer")  # type: ignore[union-attr]
    body = {"to": "+15035550142", "dialplan": "acme", "variables": VARIABLES}
    status, text = await post_call(bridge, body)
    assert status == 201, text
    record = CallRecord.model_validate_json(text)
    assert record.direction == "outbound" and record.dialplan == "acme"
    create = bridge.twilio.api.actions()[0]
    assert create["path"].endswith("/Calls.json")
    params = create["params"]
    base = bridge.twilio.bridge_url
    assert params["To"] == "+15035550142" and params["From"] == "+15555550100"
    assert params["Url"].startswith(f"{base}/twilio/voice?outbound=")
    assert params["StatusCallback"] == f"{base}/twilio/status"
    assert params["MachineDetection"] == "DetectMessageEnd"
    assert params["AsyncAmd"] == "true"
    assert params["AsyncAmdStatusCallback"] == f"{base}/twilio/amd"
    final = await finished(bridge, record.call_sid)
    assert (final.status, final.outcome) == ("failed", "no_answer")


@pytest.mark.parametrize(
    ("kind", "outcome"), [("busy", "busy"), ("failed", "failed"), ("no_answer", "no_answer")]
)
async def test_a_call_nobody_answers_keeps_why(
    bridge: LocalBridge, kind: str, outcome: str
) -> None:
    bridge.twilio.api.player.default = Callee(kind=kind)  # type: ignore[union-attr, arg-type]
    record = await bridge.services.dial("acme", "+15035550142", VARIABLES)
    final = await finished(bridge, record.call_sid)
    assert (final.status, final.outcome, final.turns) == ("failed", outcome, [])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"to": "5035550142", "dialplan": "acme", "variables": VARIABLES}, "to: '5035550142'"),
        ({"to": "+15035550142", "dialplan": "nope"}, "dialplan: no dialplan named 'nope'"),
        ({"to": "+15035550142", "dialplan": "cedar"}, "'cedar' has no outbound: block"),
        ({"to": "+15035550142", "dialplan": "acme"}, "needs variables: name, order_id"),
        ({"to": "+15035550142"}, "dialplan: Field required"),
        ({"to": "+15035550142", "dialplan": "acme", "extra": 1}, "extra: Extra inputs"),
    ],
)
async def test_a_bad_request_is_refused_naming_the_field_and_nothing_is_dialled(
    bridge: LocalBridge, body: dict[str, object], message: str
) -> None:
    status, text = await post_call(bridge, body)
    assert status == 400
    assert message in text
    assert bridge.twilio.api.actions() == []


async def test_placing_a_call_needs_the_admin_token(bridge: LocalBridge) -> None:
    body = {"to": "+15035550142", "dialplan": "acme", "variables": VARIABLES}
    status, _ = await post_call(bridge, body, token="wrong")
    assert status == 401
    assert bridge.twilio.api.actions() == []


async def test_an_amd_callback_must_be_signed(bridge: LocalBridge) -> None:
    url = f"{bridge.twilio.bridge_url}/twilio/amd"
    form = {"CallSid": "CA" + "1" * 32, "AnsweredBy": "machine_end_beep"}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=form) as response:
            assert response.status == 403
        signed = {"X-Twilio-Signature": sign_request(bridge.twilio.auth_token, url, form)}
        async with http.post(url, data=form, headers=signed) as response:
            assert response.status == 204


async def test_a_voice_webhook_naming_an_unknown_request_hangs_up(bridge: LocalBridge) -> None:
    url = f"{bridge.twilio.bridge_url}/twilio/voice?outbound=forged"
    form = {"CallSid": "CA" + "2" * 32, "From": "+15555550100", "To": "+15035550142"}
    async with aiohttp.ClientSession() as http:
        signed = {"X-Twilio-Signature": sign_request(bridge.twilio.auth_token, url, form)}
        async with http.post(url, data=form, headers=signed) as response:
            twiml = await response.text()
    assert "<Hangup />" in twiml and "<Connect>" not in twiml
