"""Console login: off unless configured, signed HttpOnly SameSite=Strict cookie, CSRF-safe posts."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bridge.console.auth import COOKIE
from bridge.demo.local import LocalBridge, local_bridge
from bridge.speech.factory import load_speech
from tests.console.conftest import PASSWORD, USER, console_settings, csrf_token, log_in


async def test_console_is_a_404_unless_a_login_is_configured(
    tmp_path: Path, browser: aiohttp.ClientSession
) -> None:
    settings = console_settings(tmp_path, CONSOLE_USER="", CONSOLE_PASSWORD="")
    speech = load_speech(settings)
    try:
        async with local_bridge(settings, speech) as bridge:
            base = bridge.twilio.bridge_url
            for path in ("/console", "/console/login", "/console/calls/CA1"):
                async with browser.get(base + path, allow_redirects=False) as response:
                    assert response.status == 404
                    assert "console is disabled" in await response.text()
    finally:
        speech.close()


async def test_a_page_without_a_session_sends_the_viewer_to_the_login(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    async with browser.get(f"{base}/console/calls?number=555", allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"].startswith("/console/login?next=")
    async with browser.get(f"{base}/console/events/live", allow_redirects=False) as response:
        assert response.status == 401


async def test_wrong_password_is_refused_without_a_cookie(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    async with browser.post(
        f"{base}/console/login", data={"user": USER, "password": "guess"}, allow_redirects=False
    ) as response:
        assert response.status == 401
        assert "Wrong credentials" in await response.text()
        assert COOKIE not in response.cookies
    async with browser.get(f"{base}/console", allow_redirects=False) as response:
        assert response.status == 303


async def test_login_sets_a_signed_httponly_strict_cookie_that_opens_the_console(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    async with browser.post(
        f"{base}/console/login",
        data={"user": USER, "password": PASSWORD, "next": "/console/dialplans"},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/console/dialplans"
        cookie = response.cookies[COOKIE]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Strict"
        assert cookie["path"] == "/console"
    async with browser.get(f"{base}/console", allow_redirects=False) as response:
        assert response.status == 200
        assert "Content-Security-Policy" in response.headers
        assert f"Log out {USER}" in await response.text()


async def test_a_tampered_cookie_is_not_a_session(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    await log_in(browser, base)
    real = next(c for c in browser.cookie_jar if c.key == COOKIE).value
    rest = real.split(".", 1)[1]
    forged = "YWRtaW4=" + "." + rest  # "admin", with the signature made for "qa"
    assert forged != real
    async with aiohttp.ClientSession() as other:
        headers = {"Cookie": f"{COOKIE}={forged}"}
        async with other.get(f"{base}/console", headers=headers, allow_redirects=False) as response:
            assert response.status == 303


async def test_the_login_never_sends_the_viewer_to_another_site(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    async with browser.post(
        f"{base}/console/login",
        data={"user": USER, "password": PASSWORD, "next": "//evil.example/console"},
        allow_redirects=False,
    ) as response:
        assert response.headers["Location"] == "/console"


async def test_posts_need_the_csrf_token_and_a_same_site_origin(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    await log_in(browser, base)
    token = await csrf_token(browser, base)
    assert len(token) == 64
    async with browser.post(
        f"{base}/console/logout", data={"csrf": "0" * 64}, allow_redirects=False
    ) as response:
        assert response.status == 403
    async with browser.post(
        f"{base}/console/logout",
        data={"csrf": token},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    ) as response:
        assert response.status == 403
    async with browser.get(f"{base}/console", allow_redirects=False) as response:
        assert response.status == 200  # still signed in: neither post did anything
    async with browser.post(
        f"{base}/console/logout", data={"csrf": token}, allow_redirects=False
    ) as response:
        assert response.status == 303
    async with browser.get(f"{base}/console", allow_redirects=False) as response:
        assert response.status == 303


async def test_a_trailing_slash_reaches_the_same_console_page(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    await log_in(browser, base)
    for typed, moved in (("/console/", "/console"), ("/console/calls/?n=5", "/console/calls?n=5")):
        async with browser.get(base + typed, allow_redirects=False) as response:
            assert response.status == 301
            assert response.headers["Location"] == moved
        async with browser.get(base + typed) as response:
            assert response.status == 200
            assert response.url.path_qs == moved
