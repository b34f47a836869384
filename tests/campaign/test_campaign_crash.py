"""A `bridge serve` process killed (SIGKILL) in the middle of a campaign and started again:
the campaign carries on to the end, and no contact is dialled twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.campaign.served import create_campaign, finished_results, twilio_here, until

CONTACTS = 8


async def test_sigkill_mid_campaign_then_restart_resumes_it_and_dials_no_contact_twice(
    tmp_path: Path,
) -> None:
    phones = [f"+1212555{2000 + i}" for i in range(CONTACTS)]
    async with twilio_here() as twilio:
        api = twilio.api
        server = twilio.bridge("crash", tmp_path)
        await server.start()
        try:
            async with twilio.http() as http:
                # Retries allowed: a contact cut by the crash must still not be dialled again.
                campaign_id = await create_campaign(
                    http, server.url, phones,
                    max_live=3, rate_per_s=20, retry_delay_s=0, max_attempts=2,
                )  # fmt: skip

                async def three_placed() -> bool:
                    return len(api.placed) >= 3

                await until(three_placed, "three calls placed")
                server.kill()  # SIGKILL: no shutdown code runs; three calls are live
                placed_before = len(api.placed)
                await server.start()  # the same data and instance: the restart tidies up
                lines = await finished_results(http, server.url, campaign_id)
        finally:
            server.kill()
    dialled = Counter(placed.to for placed in api.placed.values())
    print(f"crash: {placed_before} calls before SIGKILL, {len(api.placed)} in all")
    assert max(dialled.values()) == 1, server.log()
    assert len(api.placed) > placed_before  # the restarted bridge went on dialling
    assert sorted(line["phone"] for line in lines) == phones
    for line in lines:
        # Answered and ended, or cut by the crash (live, or claimed but never dialled).
        assert line["outcome"] in ("human", "interrupted"), (line, server.log())
        assert line["attempts"] == 1
        if line["outcome"] == "human":
            assert dialled[line["phone"]] == 1
