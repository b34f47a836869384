"""Signature checks on webhooks and media sockets, against a real aiohttp server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import MultiDict
from yarl import URL

from bridge.config import Settings
from bridge.twilio.signature import (
    public_url,
    sign_request,
    verify_webhook,
    verify_websocket,
)
from tests.support.twilio_side import body_sha256

TOKEN = "test_auth_token_0123456789abcdef"
PUBLIC = "https://bridge.example.com"
FORM = {"CallSid": "CA" + "1" * 32, "From": "+15551230000", "To": "+15559870000"}


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"PUBLIC_BASE_URL": PUBLIC, "TWILIO_AUTH_TOKEN": TOKEN}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Bridge:
    """A real aiohttp app whose handlers answer 204 when the check passes, 403 otherwise."""

    server: TestServer
    session: aiohttp.ClientSession
    seen_urls: list[str]

    def local(self, path: str) -> URL:
        # encoded=True: send the path and query byte for byte, as Twilio would.
        return URL(str(self.server.make_url("")).rstrip("/") + path, encoded=True)


# Function loop: the servers must live on the loop of the test that uses them.
@pytest_asyncio.fixture
async def bridge_for() -> AsyncIterator[Callable[[Settings], object]]:
    opened: list[Bridge] = []

    async def start(settings: Settings) -> Bridge:
        seen: list[str] = []

        async def form_hook(request: web.Request) -> web.Response:
            seen.append(public_url(settings, request))
            ok = verify_webhook(settings, request, await request.post())
            return web.Response(status=204 if ok else 403)

        async def json_hook(request: web.Request) -> web.Response:
            ok = verify_webhook(settings, request, await request.text())
            return web.Response(status=204 if ok else 403)

        async def media(request: web.Request) -> web.Response:
            return web.Response(status=204 if verify_websocket(settings, request) else 403)

        app = web.Application()
        app.router.add_post("/twilio/voice", form_hook)
        app.router.add_post("/twilio/json", json_hook)
        app.router.add_get("/twilio/media", media)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        bridge = Bridge(server, aiohttp.ClientSession(), seen)
        opened.append(bridge)
        return bridge

    yield start
    for bridge in opened:
        await bridge.session.close()
        await bridge.server.close()


async def post_form(bridge: Bridge, path: str, form: object, headers: dict[str, str]) -> int:
    async with bridge.session.post(bridge.local(path), data=form, headers=headers) as reply:
        return reply.status


async def test_signed_form_webhook_behind_proxy_is_accepted(bridge_for) -> None:
    # aiohttp sees http://127.0.0.1:port; Twilio signed the public https URL.
    bridge = await bridge_for(make_settings())
    signature = sign_request(TOKEN, f"{PUBLIC}/twilio/voice", FORM)
    assert await post_form(bridge, "/twilio/voice", FORM, {"X-Twilio-Signature": signature}) == 204
    assert bridge.seen_urls == [f"{PUBLIC}/twilio/voice"]


async def test_signature_over_local_url_is_rejected_behind_proxy(bridge_for) -> None:
    bridge = await bridge_for(make_settings())
    signature = sign_request(TOKEN, str(bridge.local("/twilio/voice")), FORM)
    assert await post_form(bridge, "/twilio/voice", FORM, {"X-Twilio-Signature": signature}) == 403


async def test_query_string_is_signed_as_received(bridge_for) -> None:
    bridge = await bridge_for(make_settings())
    path = "/twilio/voice?plan=sales%7Eeast&x=a%2Fb"
    signature = sign_request(TOKEN, PUBLIC + path, FORM)
    assert await post_form(bridge, path, FORM, {"X-Twilio-Signature": signature}) == 204
    assert bridge.seen_urls == [PUBLIC + path]


async def test_repeated_form_fields_are_all_signed(bridge_for) -> None:
    bridge = await bridge_for(make_settings())
    form = [*FORM.items(), ("StatusCallbackEvent", "ringing"), ("StatusCallbackEvent", "answered")]
    good = sign_request(TOKEN, f"{PUBLIC}/twilio/voice", MultiDict(form))
    only_one = sign_request(
        TOKEN, f"{PUBLIC}/twilio/voice", {**FORM, "StatusCallbackEvent": "ringing"}
    )
    assert await post_form(bridge, "/twilio/voice", form, {"X-Twilio-Signature": good}) == 204
    assert await post_form(bridge, "/twilio/voice", form, {"X-Twilio-Signature": only_one}) == 403


async def test_explicit_port_must_match_public_url(bridge_for) -> None:
    bridge = await bridge_for(make_settings(PUBLIC_BASE_URL="https://bridge.example.com:8443"))
    right = sign_request(TOKEN, "https://bridge.example.com:8443/twilio/voice", FORM)
    wrong = sign_request(TOKEN, "https://bridge.example.com:9443/twilio/voice", FORM)
    assert await post_form(bridge, "/twilio/voice", FORM, {"X-Twilio-Signature": right}) == 204
    assert await post_form(bridge, "/twilio/voice", FORM, {"X-Twilio-Signature": wrong}) == 403


async def test_default_port_is_accepted_either_way(bridge_for) -> None:
    bridge = await bridge_for(make_settings())
    with_port = sign_request(TOKEN, "https://bridge.example.com:443/twilio/voice", FORM)
    assert await post_form(bridge, "/twilio/voice", FORM, {"X-Twilio-Signature": with_port}) == 204


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Twilio-Signature": ""},
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
    ],
)
async def test_missing_or_wrong_signature_is_rejected(bridge_for, headers: dict[str, str]) -> None:
    bridge = await bridge_for(make_settings())
    assert await post_form(bridge, "/twilio/voice", FORM, headers) == 403


async def test_tampered_form_is_rejected(bridge_for) -> None:
    bridge = await bridge_for(make_settings())
    signature = sign_request(TOKEN, f"{PUBLIC}/twilio/voice", FORM)
    tampered = {**FORM, "To": "+15550000000"}
    headers = {"X-Twilio-Signature": signature}
    assert await post_form(bridge, "/twilio/voice", tampered, headers) == 403


async def test_signature_with_another_token_is_rejected(bridge_for) -> None:
    bridge = await bridge_for(make_settings())
    signature = sign_request("some_other_token", f"{PUBLIC}/twilio/voice", FORM)
    assert await post_form(bridge, "/twilio/voice", FORM, {"X-Twilio-Signature": signature}) == 403


async def test_no_auth_token_configured_rejects_everything(bridge_for) -> None:
    bridge = await bridge_for(make_settings(TWILIO_AUTH_TOKEN=""))
    signature = sign_request("", f"{PUBLIC}/twilio/voice", FORM)
    assert await post_form(bridge, "/twilio/voice", FORM, {"X-Twilio-Signature": signature}) == 403


async def test_skip_signature_setting_accepts_unsigned(bridge_for) -> None:
    bridge = await bridge_for(make_settings(TWILIO_SKIP_SIGNATURE=True))
    assert await post_form(bridge, "/twilio/voice", FORM, {}) == 204


async def post_json(bridge: Bridge, path: str, body: str, signature: str) -> int:
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/json"}
    async with bridge.session.post(bridge.local(path), data=body, headers=headers) as reply:
        return reply.status


async def test_json_body_signed_through_body_hash_is_accepted(bridge_for) -> None:
    bridge = await bridge_for(make_settings())
    body = json.dumps({"CallSid": FORM["CallSid"], "event": "x"})
    path = f"/twilio/json?bodySHA256={body_sha256(body)}"
    signature = sign_request(TOKEN, PUBLIC + path, body)
    assert await post_json(bridge, path, body, signature) == 204


async def test_json_body_changed_after_signing_is_rejected(bridge_for) -> None:
    bridge = await bridge_for(make_settings())
    body = json.dumps({"CallSid": FORM["CallSid"]})
    path = f"/twilio/json?bodySHA256={body_sha256(body)}"
    signature = sign_request(TOKEN, PUBLIC + path, body)
    assert await post_json(bridge, path, body.replace("CA", "CX"), signature) == 403


async def test_json_body_without_body_hash_is_rejected(bridge_for) -> None:
    bridge = await bridge_for(make_settings())
    body = json.dumps({"CallSid": FORM["CallSid"]})
    signature = sign_request(TOKEN, f"{PUBLIC}/twilio/json", {})
    assert await post_json(bridge, "/twilio/json", body, signature) == 403


async def get_media(bridge: Bridge, headers: dict[str, str]) -> int:
    async with bridge.session.get(bridge.local("/twilio/media"), headers=headers) as reply:
        return reply.status


async def test_websocket_signed_over_wss_url_is_accepted(bridge_for) -> None:
    bridge = await bridge_for(make_settings())
    signature = sign_request(TOKEN, "wss://bridge.example.com/twilio/media", {})
    # Twilio sends the header in lower case on the upgrade request.
    assert await get_media(bridge, {"x-twilio-signature": signature}) == 204


@pytest.mark.parametrize(
    "signed_url",
    ["https://bridge.example.com/twilio/media", "wss://bridge.example.com/twilio/other"],
)
async def test_websocket_signed_over_other_url_is_rejected(bridge_for, signed_url: str) -> None:
    bridge = await bridge_for(make_settings())
    signature = sign_request(TOKEN, signed_url, {})
    assert await get_media(bridge, {"x-twilio-signature": signature}) == 403


async def test_websocket_without_signature_is_rejected(bridge_for) -> None:
    bridge = await bridge_for(make_settings())
    assert await get_media(bridge, {}) == 403
