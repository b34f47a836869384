"""A placed call whose final status callback never came: the dialer asks Twilio (the fake
API, through the real `twilio` client's `calls(sid).fetch`), so the contact is settled and
its place under the live cap freed, instead of staying live for good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from bridge.campaign.dialer import Dialer, check_call, create_campaign
from bridge.campaign.models import CampaignSettings
from tests.campaign.dialing import dialing

PHONE = "+12125551000"


async def test_a_lost_final_status_is_asked_of_twilio_and_the_contact_goes_on(
    tmp_path: Path,
) -> None:
    # No callee plays the calls: Twilio's callbacks never reach the bridge.
    async with dialing(tmp_path) as rig:
        api, store, client, dialplans = rig.api, rig.store, rig.client, rig.dialplans
        now = [datetime.now(UTC)]
        dialer = Dialer(
            store.campaigns, rig.dial, "test", clock=lambda: now[0],
            check=partial(check_call, client, store),
        )  # fmt: skip
        campaign = CampaignSettings(
            dialplan="acme", hours="00:00-23:59", rate_per_s=100, retry_delay_s=0, max_attempts=2
        )
        campaign_id = await create_campaign(
            store.campaigns, dialplans, campaign, f"phone,name,order_id\n{PHONE},Dana,1\n"
        )
        start = datetime.now(UTC)

        async def step(after: timedelta) -> list[str]:
            now[0] = start + after
            await dialer.step()
            return [p.call_sid for p in api.placed.values()]

        (first,) = await step(timedelta(0))
        api.placed[first].status = "no-answer"  # the call ended; its callback was lost
        assert await step(timedelta(minutes=1)) == [first]  # not asked yet: it may ring
        fetches = [a for a in api.actions(first) if a["method"] == "GET"]
        assert fetches == []
        first_again, second = await step(timedelta(minutes=3))
        assert first_again == first  # asked, settled as no_answer, and retried at once
        record = await store.get(first)
        assert record is not None and (record.status, record.outcome) == ("failed", "no_answer")
        api.placed[second].status = "busy"
        await step(timedelta(minutes=6))
        (contact,) = await store.campaigns.contacts(campaign_id)
        assert (contact["state"], contact["outcome"], contact["attempts"]) == (
            "done",
            "busy",
            2,
        )
        assert [c["status"] for c in await store.campaigns.all()] == ["done"]
