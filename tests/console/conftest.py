"""A bridge on loopback with the console turned on, and a browser-like HTTP client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bridge.config import Settings
from bridge.demo.local import LocalBridge, local_bridge
from bridge.speech.factory import load_speech

REPO = Path(__file__).resolve().parents[2]
USER, PASSWORD = "qa", "correct horse battery"


def console_settings(tmp_path: Path, **extra: object) -> Settings:
    values: dict[str, object] = {
        "DIALPLANS_DIR": REPO / "dialplans",
        "BRIDGE_DATA_DIR": tmp_path / "data",
        "CONSOLE_USER": USER,
        "CONSOLE_PASSWORD": PASSWORD,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
async def console_bridge(tmp_path: Path) -> AsyncIterator[LocalBridge]:
    """The whole app; its speech is built but never loaded, as these tests place no call."""
    settings = console_settings(tmp_path)
    speech = load_speech(settings)
    try:
        async with local_bridge(settings, speech) as bridge:
            yield bridge
    finally:
        speech.close()


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    """Keeps cookies like a browser (also for 127.0.0.1) and never follows redirects itself."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        yield session


async def log_in(http: aiohttp.ClientSession, base: str) -> None:
    async with http.post(
        f"{base}/console/login",
        data={"user": USER, "password": PASSWORD, "next": "/console"},
        allow_redirects=False,
    ) as response:
        assert response.status == 303, await response.text()


async def csrf_token(http: aiohttp.ClientSession, base: str) -> str:
    """The CSRF token from a page's form, as a browser would submit it."""
    async with http.get(f"{base}/console/test-call") as response:
        html = await response.text()
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
