"""The console under attack, over HTTP against the real app: guessing the login in parallel,
a session cookie behind a TLS-terminating proxy, and a cookie kept after logging out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bridge.console.auth import COOKIE
from bridge.demo.local import LocalBridge, local_bridge
from bridge.speech.factory import load_speech
from tests.console.conftest import PASSWORD, USER, console_settings, log_in

SECRET = "a" * 64  # two instances sign sessions alike, as CONSOLE_SECRET makes them


@asynccontextmanager
async def console_on(tmp_path: Path, **extra: object) -> AsyncIterator[LocalBridge]:
    """The whole app with the console on; its speech is built but never loaded."""
    settings = console_settings(tmp_path, CONSOLE_SECRET=SECRET, **extra)
    speech = load_speech(settings)
    try:
        async with local_bridge(settings, speech) as bridge:
            yield bridge
    finally:
        speech.close()


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def attempt(
    http: aiohttp.ClientSession, base: str, password: str, client: str | None = None
) -> int:
    headers = {"X-Forwarded-For": client} if client else {}
    async with http.post(
        f"{base}/console/login",
        data={"user": USER, "password": password},
        headers=headers,
        allow_redirects=False,
    ) as response:
        return response.status


async def test_parallel_guesses_are_refused_unchecked_not_classified(
    tmp_path: Path, browser: aiohttp.ClientSession
) -> None:
    # The attacker fires 30 guesses at once, the right one among them, hoping the answers
    # (and how soon they come) tell right from wrong faster than one guess a second.
    guesses = [f"guess {n}" for n in range(29)]
    guesses.insert(15, PASSWORD)
    async with console_on(tmp_path) as bridge:
        base = bridge.twilio.bridge_url
        statuses = await asyncio.gather(*(attempt(browser, base, g) for g in guesses))
    checked = [status for status in statuses if status != 429]
    # One attempt at a time per address: the rest are refused before any comparison.
    assert len(checked) <= 2, statuses
    assert statuses.count(429) >= len(guesses) - 2


async def test_a_user_elsewhere_is_not_queued_behind_an_attackers_guesses(
    tmp_path: Path, browser: aiohttp.ClientSession
) -> None:
    async with console_on(tmp_path, TRUSTED_PROXIES="127.0.0.1") as bridge:
        base = bridge.twilio.bridge_url
        attacker = [attempt(browser, base, f"guess {n}", "203.0.113.9") for n in range(40)]
        user = attempt(browser, base, "mistyped", "198.51.100.7")
        *flood, mistyped = await asyncio.gather(*attacker, user)
        retried = await attempt(browser, base, PASSWORD, "198.51.100.7")
    assert flood.count(429) >= len(flood) - 2
    assert mistyped == 401 and retried == 303


async def test_behind_a_tls_proxy_the_session_cookie_is_secure(
    tmp_path: Path, browser: aiohttp.ClientSession
) -> None:
    # nginx terminates TLS and forwards plain http from loopback, saying the client used https.
    async with console_on(tmp_path, TRUSTED_PROXIES="127.0.0.1/32") as bridge:
        async with browser.post(
            f"{bridge.twilio.bridge_url}/console/login",
            data={"user": USER, "password": PASSWORD},
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
            assert response.cookies[COOKIE]["secure"]


async def test_an_untrusted_peer_cannot_claim_https_or_another_address(
    tmp_path: Path, browser: aiohttp.ClientSession
) -> None:
    async with console_on(tmp_path) as bridge:  # no TRUSTED_PROXIES: headers are not believed
        base = bridge.twilio.bridge_url
        async with browser.post(
            f"{base}/console/login",
            data={"user": USER, "password": PASSWORD},
            headers={"X-Forwarded-Proto": "https"},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
            assert not response.cookies[COOKIE]["secure"]
        # A new "address" per guess buys no parallel guesses: the peer is what counts.
        statuses = await asyncio.gather(
            *(attempt(browser, base, f"guess {n}", f"203.0.113.{n}") for n in range(20))
        )
    assert statuses.count(429) >= len(statuses) - 2


async def test_a_cookie_kept_after_logout_opens_nothing_on_any_instance(
    tmp_path: Path, browser: aiohttp.ClientSession
) -> None:
    # Two instances on one store; the attacker copied the cookie before the user logged out.
    async with console_on(tmp_path) as first, console_on(tmp_path) as second:
        await log_in(browser, first.twilio.bridge_url)
        stolen = next(c for c in browser.cookie_jar if c.key == COOKIE).value
        async with aiohttp.ClientSession() as attacker:
            headers = {"Cookie": f"{COOKIE}={stolen}"}
            for bridge in (first, second):
                url = f"{bridge.twilio.bridge_url}/console"
                async with attacker.get(url, headers=headers, allow_redirects=False) as page:
                    assert page.status == 200  # the cookie works everywhere while signed in
            await log_out(browser, first.twilio.bridge_url)
            for bridge in (first, second):
                url = f"{bridge.twilio.bridge_url}/console"
                async with attacker.get(url, headers=headers, allow_redirects=False) as page:
                    assert page.status == 303
                    assert page.headers["Location"].startswith("/console/login")


async def log_out(browser: aiohttp.ClientSession, base: str) -> None:
    async with browser.get(f"{base}/console/test-call") as response:
        html = await response.text()
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    token = html[start : html.index('"', start)]
    async with browser.post(
        f"{base}/console/logout", data={"csrf": token}, allow_redirects=False
    ) as response:
        assert response.status == 303
