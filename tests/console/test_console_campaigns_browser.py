"""The campaigns page in a real headless Chromium: upload a CSV, watch the campaign run to
its end live (server-sent events under the console's strict CSP), download its results.

Instant speech and the fake Twilio API's callees: no model is loaded.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from bridge.demo.local import LocalBridge, local_bridge
from bridge.sim.callee import Callee, CalleePlayer
from bridge.speech.factory import load_speech
from tests.console.conftest import PASSWORD, USER, console_settings
from tests.console.test_console_browser import chromium  # noqa: F401  (the browser fixture)

PHONES = ("+12125551000", "+12125551001", "+12125551002")


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[LocalBridge]:
    settings = console_settings(tmp_path, STT_PROVIDER="instant", TTS_PROVIDER="instant")
    speech = load_speech(settings)
    try:
        async with local_bridge(settings, speech) as running:
            running.twilio.api.player = CalleePlayer(
                running.twilio.account_sid, running.twilio.auth_token, speech.caller_tts,
                speed=4, default=Callee(lines=(), ring_ms=1500),
                admin_token=running.twilio.admin_token,
            )  # fmt: skip
            yield running
    finally:
        speech.close()


async def test_a_campaign_uploaded_in_the_browser_runs_to_its_end_live(
    bridge: LocalBridge,
    chromium: BrowserContext,  # noqa: F811
    tmp_path: Path,
) -> None:
    contacts = tmp_path / "contacts.csv"
    rows = "".join(f"{phone},Dana,{4570 + i}\n" for i, phone in enumerate(PHONES))
    contacts.write_text("phone,name,order_id\n" + rows)
    base = bridge.twilio.bridge_url
    page = chromium.pages[0] if chromium.pages else await chromium.new_page()
    await page.goto(f"{base}/console/campaigns")
    await page.get_by_label("User").fill(USER)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()

    await page.get_by_label("Contacts (CSV)").set_input_files(str(contacts))
    await page.get_by_label("Dialplan").select_option("acme")
    await page.get_by_label("Calling hours").fill("00:00-23:59")
    await page.get_by_label("New calls per second").fill("20")
    await page.get_by_role("button", name="Create and start dialling").click()
    await expect(page).to_have_url(re.compile(r"/console/campaigns/CM[0-9a-f]{16}$"))

    progress = page.locator("section.progress")
    await expect(progress).to_have_attribute("data-final", "true", timeout=60_000)
    await expect(progress.locator(".badge.campaign-done")).to_be_visible()
    await expect(progress).to_contain_text("Outcomes: human 3")
    await expect(progress.get_by_role("link", name="call 1")).to_have_count(3)

    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="CSV").click()
    download = await download_info.value
    lines = Path(await download.path()).read_text().splitlines()
    assert lines[0].startswith("row,phone,attempts,state,outcome")
    assert sorted(line.split(",")[1] for line in lines[1:]) == sorted(PHONES)
