"""Malformed requests get a 4xx that says what is wrong, never a 500, over HTTP against the
real app: the inputs an attacker found that raised before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bridge.demo.local import LocalBridge, local_bridge
from bridge.sim.handshake import new_call_sid
from bridge.speech.factory import load_speech
from bridge.twilio.signature import sign_request
from tests.console.conftest import console_settings, log_in


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[LocalBridge]:
    settings = console_settings(tmp_path)
    speech = load_speech(settings)  # built, never loaded: no call is placed
    try:
        async with local_bridge(settings, speech) as bridge:
            yield bridge
    finally:
        speech.close()


async def test_a_multipart_voice_webhook_is_refused_before_its_signature_is_checked(
    app: LocalBridge,
) -> None:
    # Unauthenticated: a file part used to reach the signature check and raise a TypeError.
    url = f"{app.twilio.bridge_url}/twilio/voice"
    form = aiohttp.FormData()
    form.add_field("CallSid", new_call_sid())
    form.add_field("From", b"+15555550123", filename="from.txt")
    signature = sign_request(app.twilio.auth_token, url, {"CallSid": "x"})
    async with aiohttp.ClientSession() as http:
        for path in ("/twilio/voice", "/twilio/status"):
            target = f"{app.twilio.bridge_url}{path}"
            async with http.post(
                target, data=form, headers={"X-Twilio-Signature": signature}
            ) as response:
                assert response.status == 415, await response.text()


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("page=" + "9" * 30, "page must be between"),
        ("page=0", "page must be between"),
        ("until=9999-12-31", "to date must be between"),
        ("since=0001-01-01", "from date must be between"),
        ("page=two", "page must be a number"),
    ],
)
async def test_a_call_search_out_of_range_is_a_400_that_says_why(
    app: LocalBridge, query: str, says: str
) -> None:
    base = app.twilio.bridge_url
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        await log_in(browser, base)
        async with browser.get(f"{base}/console/calls?{query}") as response:
            assert response.status == 400
            assert says in await response.text()
