"""The console in a real headless Chromium: log in, place a test call, find it, open it.

Debian's Chromium, driven by Playwright's own driver (never `playwright install`). The call
page's screenshot is kept as a test artifact in var/artifacts/console-call.png.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, async_playwright, expect

from bridge.demo.local import LocalBridge, local_bridge
from bridge.speech.factory import SpeechModels
from tests.console.conftest import PASSWORD, REPO, USER, console_settings

pytestmark = pytest.mark.models

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO / "var" / "artifacts" / "console-call.png"
CALLER = "+15035550142"  # the phone on file for order 4572
LINES = (
    "I'd like to check on my order.",
    "It's order 4 5 7 2.",
    "Can you put me through to the billing department, please?",
)
CALL_TIMEOUT_MS = 120_000  # a whole simulated call, in real time


@pytest.fixture
async def bridge(tmp_path: Path, speech: SpeechModels) -> AsyncIterator[LocalBridge]:
    async with local_bridge(console_settings(tmp_path), speech) as running:
        yield running


@pytest.fixture
async def chromium(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run tests/support/install-system-deps.sh")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # an empty --user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1200, "height": 900},
        )
        try:
            yield context
        finally:
            await context.close()


async def test_console_places_a_test_call_and_shows_its_tool_call_and_waterfall(
    bridge: LocalBridge, chromium: BrowserContext
) -> None:
    base = bridge.twilio.bridge_url
    page = chromium.pages[0] if chromium.pages else await chromium.new_page()

    # 1. The console asks for a login first.
    await page.goto(f"{base}/console")
    await expect(page).to_have_url(re.compile(r"/console/login"))
    await page.get_by_label("User").fill(USER)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Live calls")).to_be_visible()

    # 2. Place a test call that asks for a transfer.
    await page.get_by_role("link", name="Test call").click()
    await page.get_by_label("Number to call").select_option("+15555550100")
    await page.get_by_label("Caller's number").fill(CALLER)
    await page.get_by_label("What the caller says").fill("\n".join(LINES))
    # Real time: the simulated caller waits for the agent's silence on the stream's clock,
    # so a faster stream would mistake a slow sentence of the greeting for its end.
    await page.get_by_label("Speed").select_option("1")
    await page.get_by_role("button", name="Place the call").click()

    # 3. The call page follows the call live until it is over.
    await expect(page).to_have_url(re.compile(r"/console/calls/CA[0-9a-f]{32}$"))
    call_url = page.url
    region = page.locator("div.call")
    await expect(region).to_have_attribute("data-final", "true", timeout=CALL_TIMEOUT_MS)
    await expect(region.locator(".badge.status-transferred")).to_be_visible()

    # 4. Find it in the call list by the caller's number and outcome, and open it.
    await page.get_by_role("link", name="Calls", exact=True).click()
    await page.get_by_label("Number").fill(CALLER)
    await page.get_by_label("Outcome").select_option("transferred")
    await page.get_by_role("button", name="Search").click()
    rows = page.locator("table.calls tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(CALLER)
    await rows.first.get_by_role("link").click()
    await expect(page).to_have_url(call_url)

    # 5. The tool call with its arguments, the Twilio action, the waterfall, the recording.
    await check_call_page(page)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT), full_page=True)
    print(f"console call page screenshot: {SCREENSHOT}")


async def check_call_page(page: Page) -> None:
    lookup = page.locator(".tool", has_text="check_order_status").first
    await expect(lookup.locator(".tool-args")).to_contain_text('"order_id": "4572"')
    await expect(lookup.locator(".tool-result")).to_contain_text('"order_id": "4572"')
    transfer = page.locator(".tool", has_text="transfer_call")
    await expect(transfer).to_have_count(1)
    await expect(transfer.locator(".tool-args")).to_contain_text('"department": "billing"')
    await expect(page.locator("#actions table")).to_contain_text("/Calls/")
    # The order turn went through every stage, from endpointing to the first media sent.
    waterfall = page.locator("#latency figure", has_text="Turn 2 (speech)").locator("svg")
    await expect(waterfall).to_be_visible()
    for stage in ("endpointing", "stt", "agent", "tts_first_audio", "first_media"):
        await expect(waterfall.locator(f"rect.wf-{stage}")).to_have_count(1)
    await expect(page.locator("#recording audio")).to_have_attribute(
        "src", re.compile(r"/recording\.wav$")
    )
