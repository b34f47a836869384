"""`/api` and the secrets that guard the admin surface, against the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from bridge.demo.local import LocalBridge, local_bridge
from bridge.speech.factory import load_speech
from tests.deploy.test_serve_refuses_bad_configuration import serve
from tests.support.bridges import bridge_settings
from tests.support.loopback import serving
from tests.support.twilio_side import answer_call


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[LocalBridge]:
    settings = bridge_settings(tmp_path)
    speech = load_speech(settings)  # built, never loaded
    try:
        async with local_bridge(settings, speech) as bridge:
            bridge.services.settings.admin_token = SecretStr("")  # /api: loopback only
            yield bridge
    finally:
        speech.close()


@pytest.fixture
async def same_host_proxy(app: LocalBridge) -> AsyncIterator[str]:
    """nginx on the bridge's host: it connects from loopback on behalf of anyone outside."""

    async def forward(request: web.Request) -> web.Response:
        headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
        async with aiohttp.ClientSession() as session:
            async with session.get(
                app.twilio.bridge_url + request.path_qs, headers=headers
            ) as upstream:
                return web.Response(status=upstream.status, body=await upstream.read())

    proxy = web.Application()
    proxy.router.add_get("/{tail:.*}", forward)
    async with serving(proxy) as url:
        yield url


async def test_without_an_admin_token_api_refuses_what_a_same_host_proxy_forwards(
    app: LocalBridge, same_host_proxy: str
) -> None:
    async with aiohttp.ClientSession() as http:
        answered = await answer_call(app.twilio, http)
        path = f"/api/calls/{answered.call_sid}"
        async with http.get(same_host_proxy + path) as outsider:
            assert outsider.status == 401  # someone on the internet, through the proxy
        async with http.get(app.twilio.bridge_url + path) as local:
            assert local.status == 200  # an operator on the host itself


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("BRIDGE_ADMIN_TOKEN", "change-me", "BRIDGE_ADMIN_TOKEN is still the example value"),
        ("CONSOLE_TOKEN", "hunter2", "CONSOLE_TOKEN must be at least 16 characters"),
        ("TRUSTED_PROXIES", "10.0.0.0/8,nginx", "TRUSTED_PROXIES: 'nginx' is not an address"),
    ],
)
def test_serve_refuses_the_example_admin_token_and_weak_secrets(
    tmp_path: Path, name: str, value: str, says: str
) -> None:
    done = serve(tmp_path, **{name: value})
    assert done.returncode == 2
    assert says in done.stderr
