"""A placed call whose final status callback never came: the dialer asks Twilio (the fake
API, through the real `twilio` client's `calls(sid).fetch`), so the contact is settled with
Twilio's outcome and its place under the live cap freed, instead of staying live for good or
being written off as `unknown`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from bridge.campaign.dialer import Dialer, check_call, create_campaign
from bridge.campaign.models import CampaignSettings
from tests.campaign.dialing import dialing

PHONE = "+12125551000"
CAMPAIGN = CampaignSettings(
    dialplan="acme", hours="00:00-23:59", rate_per_s=100, retry_delay_s=0, max_attempts=2
)


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
        campaign_id = await create_campaign(
            store.campaigns, dialplans, CAMPAIGN, f"phone,name,order_id\n{PHONE},Dana,1\n"
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


async def test_a_call_that_streamed_and_ended_here_without_its_final_status_is_asked_of_twilio(
    tmp_path: Path,
) -> None:
    # The stream ended (the call closed here), then the bridge was killed before Twilio's
    # callback came: the callee was reached, and Twilio knows it, so the outcome is not unknown.
    async with dialing(tmp_path) as rig:
        api, store = rig.api, rig.store
        now = [datetime.min.replace(tzinfo=UTC)]
        dialer = Dialer(
            store.campaigns, rig.dial, "test", clock=lambda: now[0],
            check=partial(check_call, rig.client, store),
        )  # fmt: skip
        campaign_id = await create_campaign(
            store.campaigns, rig.dialplans, CAMPAIGN, f"phone,name,order_id\n{PHONE},Dana,1\n"
        )
        now[0] = datetime.now(UTC)
        await dialer.step()
        (call_sid,) = api.placed
        await store.set_stream(call_sid, "MZ" + "0" * 32)
        await store.close_call(call_sid, "completed", "caller hung up")
        api.placed[call_sid].status = "completed"
        ended = datetime.now(UTC)

        now[0] = ended + timedelta(seconds=2)
        await dialer.step()
        assert [a for a in api.actions(call_sid) if a["method"] == "GET"] == []  # may yet come
        now[0] = ended + timedelta(seconds=15)
        await dialer.step()
        await dialer.step()
        (contact,) = await store.campaigns.contacts(campaign_id)
        assert (contact["state"], contact["outcome"], contact["attempts"]) == ("done", "human", 1)
        assert len(api.placed) == 1
