"""Campaigns through the fake Twilio API and its callees (instant speech: no models)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bridge.campaign.dialer import Dialer, create_campaign
from bridge.campaign.export import as_csv, results
from bridge.campaign.models import CampaignInputError, CampaignSettings
from bridge.demo.local import LocalBridge, local_bridge
from bridge.sim.callee import Callee, CalleePlayer
from tests.campaign.dialing import dialing
from tests.support.bridges import bridge_settings

KINDS = ("person", "voicemail", "no_answer", "busy")


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[LocalBridge]:
    settings = bridge_settings(tmp_path, STT_PROVIDER="instant", TTS_PROVIDER="instant")
    async with local_bridge(settings) as running:
        running.twilio.api.player = CalleePlayer(
            running.twilio.account_sid,
            running.twilio.auth_token,
            running.services.speech.caller_tts,
            speed=20.0,
            admin_token=running.twilio.admin_token,
        )
        yield running


def contacts_csv(phones: list[str]) -> str:
    lines = ["phone,name,order_id"] + [f"{p},Dana,{4570 + i}" for i, p in enumerate(phones)]
    return "\n".join(lines) + "\n"


async def test_twenty_contacts_with_a_cap_of_five_are_each_dialled_within_it_and_retried(
    bridge: LocalBridge,
) -> None:
    phones = [f"+1212555{1000 + i}" for i in range(20)]
    player = bridge.twilio.api.player
    assert player is not None
    for index, phone in enumerate(phones):
        player.callees[phone] = Callee(kind=KINDS[index % 4], lines=(), ring_ms=400)  # type: ignore[arg-type]
    settings = CampaignSettings(
        dialplan="acme", max_live=5, rate_per_s=50, hours="00:00-23:59",
        retry_delay_s=0, max_attempts=2,
    )  # fmt: skip
    campaigns = bridge.services.store.campaigns
    campaign_id = await create_campaign(
        campaigns, bridge.services.dialplans, settings, contacts_csv(phones)
    )
    for _ in range(1200):
        campaign = await campaigns.get(campaign_id)
        if campaign is not None and campaign["status"] == "done":
            break
        await asyncio.sleep(0.1)
    assert campaign is not None and campaign["status"] == "done"
    api = bridge.twilio.api
    assert api.peak_live <= 5
    dialled = [placed.to for placed in api.placed.values()]
    # No-answer and busy contacts are tried twice; people and voicemails once.
    assert sorted(dialled) == sorted(
        phone for index, phone in enumerate(phones) for _ in range(2 if index % 4 >= 2 else 1)
    )
    exported = as_csv(results(await campaigns.contacts(campaign_id), ""))
    lines = list(csv.DictReader(io.StringIO(exported)))
    assert sorted(line["phone"] for line in lines) == sorted(phones)
    outcomes = {line["phone"]: line["outcome"] for line in lines}
    assert {outcomes[phones[i]] for i in range(0, 20, 4)} == {"human"}
    assert {outcomes[phones[i]] for i in range(1, 20, 4)} == {"voicemail_left"}
    assert {outcomes[phones[i]] for i in range(2, 20, 4)} == {"no_answer"}
    assert {outcomes[phones[i]] for i in range(3, 20, 4)} == {"busy"}


async def test_bad_campaign_input_names_the_row_or_field(bridge: LocalBridge) -> None:
    campaigns = bridge.services.store.campaigns
    settings = CampaignSettings(dialplan="acme")
    text = "phone,name,order_id\n+12125551000,Dana,1\n5551234,Sam,2\n+12125551000,Kim,3\n+1212,x\n"
    with pytest.raises(CampaignInputError) as caught:
        await create_campaign(campaigns, bridge.services.dialplans, settings, text)
    assert caught.value.problems == [
        "row 3: phone: '5551234' is not E.164 like +15551234567",
        "row 4: phone: +12125551000 is already on row 2",
        "row 5: 2 fields, the header has 3",
    ]
    with pytest.raises(CampaignInputError, match="'cedar' has no outbound: block"):
        await create_campaign(
            campaigns, bridge.services.dialplans, CampaignSettings(dialplan="cedar"), text
        )
    with pytest.raises(ValueError, match="never open"):
        CampaignSettings(dialplan="acme", hours="20:00-09:00")
    assert await campaigns.all() == []


async def test_calling_hours_in_the_callee_zone_and_the_do_not_call_list_on_a_set_clock(
    tmp_path: Path,
) -> None:
    async with dialing(tmp_path) as rig:
        api, store, dialplans = rig.api, rig.store, rig.dialplans
        now = [datetime(2027, 1, 5, 13, 0, tzinfo=UTC)]  # New York 08:00, Los Angeles 05:00
        dialer = Dialer(store.campaigns, rig.dial, "test", clock=lambda: now[0])
        new_york, los_angeles, london, blocked = (
            "+12125551000", "+13105551000", "+442071234567", "+12125551001",
        )  # fmt: skip
        await store.campaigns.add_do_not_call(blocked, "test")
        campaign = CampaignSettings(dialplan="acme", hours="09:00-17:00", rate_per_s=100)
        text = contacts_csv([new_york, los_angeles, london, blocked])
        assert not await dialer.step()  # nothing running: the dialer may look less often
        campaign_id = await create_campaign(store.campaigns, dialplans, campaign, text)
        dialled: list[list[str]] = []
        for moment in (13, 14.5, 17.5):  # UTC hours: London, then New York, then LA open
            now[0] = datetime(2027, 1, 5, tzinfo=UTC) + timedelta(hours=moment)
            before = len(api.placed)
            assert await dialer.step()
            dialled.append([p.to for p in list(api.placed.values())[before:]])
        assert dialled == [[london], [new_york], [los_angeles]]
        contacts = {c["phone"]: c for c in await store.campaigns.contacts(campaign_id)}
        assert (contacts[blocked]["state"], contacts[blocked]["outcome"]) == (
            "done", "do_not_call",
        )  # fmt: skip


async def test_the_campaign_api_creates_pauses_cancels_and_exports(bridge: LocalBridge) -> None:
    base = f"{bridge.twilio.bridge_url}/api/campaigns"
    headers = {"Authorization": f"Bearer {bridge.twilio.admin_token}"}
    phones = ["+12125551000", "+12125551001"]
    body = {"dialplan": "acme", "hours": "00:00-23:59", "contacts_csv": contacts_csv(phones)}
    async with aiohttp.ClientSession(headers=headers) as http:
        bad = {**body, "contacts_csv": "phone,name,order_id\nnope,Dana,1\n"}
        async with http.post(base, json=bad) as response:
            assert response.status == 400
            assert (await response.json())["problems"] == [
                "row 2: phone: 'nope' is not E.164 like +15551234567"
            ]
        async with http.post(base, json={**body, "max_live": 0}) as response:
            assert response.status == 400
            assert "max_live" in (await response.json())["problems"][0]
        async with http.post(base, json={**body, "rate_per_s": 0.001}) as response:
            assert response.status == 201
            campaign_id = (await response.json())["campaign_id"]
        async with http.post(f"{base}/{campaign_id}/pause") as response:
            assert response.status == 200
        async with http.post(f"{base}/{campaign_id}/pause") as response:
            assert response.status == 409
        async with http.post(f"{base}/{campaign_id}/cancel") as response:
            assert response.status == 200
        async with http.get(f"{base}/{campaign_id}/results?format=csv") as response:
            lines = list(csv.DictReader(io.StringIO(await response.text())))
    assert sorted(line["phone"] for line in lines) == phones
    # At most one call went out before the pause (one every 1000 s); the rest are canceled.
    assert [line["outcome"] for line in lines].count("canceled") >= 1
