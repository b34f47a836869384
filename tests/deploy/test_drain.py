"""`bridge serve` on SIGTERM: it keeps answering while its calls end, then exits.

While live calls finish, the listener stays open: `/readyz` says 503 (draining) so balancers
that poll it stop sending calls, and a voice webhook that still arrives gets the dialplan's
busy TwiML instead of a refused connection. Once the last call ends, the process exits.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bridge.sim.calls import TwilioSide, fresh_credentials
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.sim.handshake import new_call_sid
from bridge.twilio.signature import sign_request
from tests.deploy.cluster import REPO, BridgeProcess
from tests.support.twilio_side import live_stream

WAIT_S = 20.0


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[BridgeProcess, TwilioSide]]:
    account_sid, auth_token = fresh_credentials()
    api = FakeTwilioApi(account_sid, auth_token)
    await api.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "OPENAI_"))},
        "HF_HUB_OFFLINE": "1",
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_API_BASE_URL": api.url,
        "DIALPLANS_DIR": str(REPO / "dialplans"),
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "",
        "STT_PROVIDER": "instant",
        "TTS_PROVIDER": "instant",
        "BRIDGE_AGENT": "instant",
    }
    bridge = BridgeProcess("drain", env, tmp_path / "bridge.log")
    bridge.env["PUBLIC_BASE_URL"] = bridge.url
    twilio = TwilioSide(bridge.url, account_sid, auth_token, secrets.token_hex(16), api)
    try:
        await bridge.start()
        yield bridge, twilio
    except BaseException:
        print(f"--- bridge log ---\n{bridge.log()[-6000:]}")
        raise
    finally:
        bridge.kill()
        await api.close()


async def readiness(http: aiohttp.ClientSession, bridge: BridgeProcess) -> tuple[int, dict]:
    async with http.get(bridge.url + "/readyz") as response:
        return response.status, await response.json()


async def until_draining(http: aiohttp.ClientSession, bridge: BridgeProcess) -> dict:
    """The readiness answer once the signal has been handled (it arrives asynchronously)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        status, body = await readiness(http, bridge)
        if status == 503:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("the bridge never reported draining")


async def test_a_draining_bridge_answers_readiness_and_new_calls_until_its_calls_end(
    served: tuple[BridgeProcess, TwilioSide],
) -> None:
    bridge, twilio = served
    # A new connection per request, as a balancer's probe or a new webhook from Twilio makes.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        async with live_stream(twilio):
            while (await readiness(http, bridge))[1]["live_calls"] != 1:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            bridge.drain()
            ready = await until_draining(http, bridge)
            assert ready["checks"]["draining"] == "draining"
            assert ready["live_calls"] == 1

            url = f"{twilio.bridge_url}/twilio/voice"
            form = {"CallSid": new_call_sid(), "From": "+15555550123", "To": "+15555550100"}
            headers = {"X-Twilio-Signature": sign_request(twilio.auth_token, url, form)}
            async with http.post(url, data=form, headers=headers) as response:
                assert response.status == 200
                twiml = await response.text()
            assert "all our lines are busy" in twiml and "<Connect>" not in twiml
            assert bridge.process is not None and bridge.process.poll() is None
        # The held call's stream closed: nothing is live, so the drain is over.
        assert await bridge.exited(WAIT_S) == 0
    assert "draining: 1 live calls" in bridge.log()
