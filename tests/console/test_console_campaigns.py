"""The console's campaigns pages over HTTP: create from a CSV upload (with CSRF), bad files
explained by row, progress, pause/resume/cancel, and the results to download."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bridge.demo.local import LocalBridge, local_bridge
from bridge.speech.factory import load_speech
from tests.console.conftest import console_settings, csrf_token, log_in

PHONES = ["+12125551000", "+12125551001", "+12125551002"]
CSV = "phone,name,order_id\n" + "".join(f"{p},Dana,{4570 + i}\n" for i, p in enumerate(PHONES))


@pytest.fixture
async def console_bridge(tmp_path: Path) -> AsyncIterator[LocalBridge]:
    """The whole app with instant speech: these tests place no call worth hearing."""
    settings = console_settings(tmp_path, STT_PROVIDER="instant", TTS_PROVIDER="instant")
    speech = load_speech(settings)
    try:
        async with local_bridge(settings, speech) as bridge:
            yield bridge
    finally:
        speech.close()


def upload(token: str, contacts: str | bytes, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    # One call goes out, the next in 1000 s: the contacts stay put while the test looks.
    values = {"csrf": token, "dialplan": "acme", "hours": "00:00-23:59", "rate_per_s": "0.001"}
    for name, value in {**values, **fields}.items():
        form.add_field(name, value)
    data = contacts.encode() if isinstance(contacts, str) else contacts
    form.add_field("contacts", data, filename="contacts.csv", content_type="text/csv")
    return form


async def test_a_campaign_is_created_from_an_upload_then_paused_resumed_canceled_and_exported(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    await log_in(browser, base)
    token = await csrf_token(browser, base)
    async with browser.get(f"{base}/console/campaigns") as response:
        html = await response.text()
    assert "No campaign yet." in html and '<option value="acme">' in html
    assert '<option value="cedar">' not in html  # no outbound: block

    async with browser.post(
        f"{base}/console/campaigns", data=upload(token, CSV), allow_redirects=False
    ) as response:
        assert response.status == 303, await response.text()
        location = response.headers["Location"]
    campaign_id = location.rsplit("/", 1)[1]
    async with browser.get(base + location) as response:
        html = await response.text()
    assert all(phone in html for phone in PHONES)
    assert f'data-events="/console/campaigns/{campaign_id}/events"' in html
    assert "campaign-running" in html and ">Pause</button>" in html
    async with browser.get(f"{base}/console/campaigns/{campaign_id}/events") as events:
        first = (await events.content.readuntil(b"\n\n")).decode()
    assert first.startswith("event: update") and "Contacts (3)" in first

    async def act(action: str) -> str:
        async with browser.post(
            f"{base}/console/campaigns/{campaign_id}/{action}", data={"csrf": token}
        ) as response:
            assert response.status == 200
            return await response.text()

    assert "Paused: calls live go on" in await act("pause")
    assert "Nothing changed" in await act("pause")
    html = await act("resume")
    assert "Resumed." in html and ">Pause</button>" in html
    html = await act("cancel")
    assert "Canceled:" in html and ">Resume</button>" not in html
    campaigns = console_bridge.services.store.campaigns
    campaign = await campaigns.get(campaign_id)
    assert campaign is not None and campaign["status"] == "canceled"

    async with browser.get(f"{base}/console/campaigns/{campaign_id}/results.csv") as response:
        assert response.headers["Content-Disposition"].endswith(f'{campaign_id}-results.csv"')
        lines = list(csv.DictReader(io.StringIO(await response.text())))
    assert sorted(line["phone"] for line in lines) == PHONES
    # At most one call went out before the cancel; the others were closed unanswered.
    assert [line["outcome"] for line in lines].count("canceled") >= 2
    async with browser.get(f"{base}/console/campaigns") as response:
        assert f"/console/campaigns/{campaign_id}" in await response.text()


async def test_a_bad_upload_is_explained_by_row_and_nothing_is_stored(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    await log_in(browser, base)
    token = await csrf_token(browser, base)
    bad = "phone,name,order_id\n+12125551000,Dana,1\n5551234,Sam,2\n"
    async with browser.post(f"{base}/console/campaigns", data=upload(token, bad)) as response:
        assert response.status == 400
        html = await response.text()
    assert "row 3: phone: &#x27;5551234&#x27; is not E.164" in html
    async with browser.post(
        f"{base}/console/campaigns", data=upload(token, CSV, max_live="0", hours="20:00-09:00")
    ) as response:
        assert response.status == 400
        html = await response.text()
    problems = re.findall(r"<li>(.*?)</li>", html[html.index('class="problems"') :])
    assert [p.split(":")[0] for p in problems] == ["max_live", "hours"]
    latin1 = "phone,name,order_id\n+12125551000,Ren\xe9e,1\n".encode("latin-1")
    async with browser.post(f"{base}/console/campaigns", data=upload(token, latin1)) as response:
        assert response.status == 400
        assert "contacts: choose a CSV file (UTF-8 text)" in await response.text()
    assert await console_bridge.services.store.campaigns.all() == []


async def test_campaign_forms_need_the_session_csrf_token(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    await log_in(browser, base)
    async with browser.post(
        f"{base}/console/campaigns", data=upload("forged", CSV), allow_redirects=False
    ) as response:
        assert response.status == 403
    assert await console_bridge.services.store.campaigns.all() == []
    async with aiohttp.ClientSession() as stranger:
        async with stranger.get(
            f"{base}/console/campaigns/CM0123456789abcdef/results.csv", allow_redirects=False
        ) as response:
            assert response.status == 401
