"""Two `bridge serve` instances on one PostgreSQL share one campaign: both dial it, the live
cap holds across them, and no contact is dialled twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from tests.campaign.served import create_campaign, finished_results, twilio_here
from tests.support.postgres import PostgresCluster, fresh_database

CONTACTS = 12
MAX_LIVE = 4


async def test_two_instances_on_one_postgres_share_a_campaign_and_dial_each_contact_once(
    tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    dsn = fresh_database(postgres_cluster)
    phones = [f"+1212555{3000 + i}" for i in range(CONTACTS)]
    async with twilio_here() as twilio:
        api = twilio.api
        bridges = [twilio.bridge(name, tmp_path, DATABASE_URL=dsn) for name in ("a", "b")]
        try:
            await asyncio.gather(*(bridge.start() for bridge in bridges))
            async with twilio.http() as http:
                campaign_id = await create_campaign(
                    http, bridges[0].url, phones, max_live=MAX_LIVE, rate_per_s=20
                )
                lines = await finished_results(http, bridges[1].url, campaign_id)
        finally:
            for bridge in bridges:
                bridge.kill()
    dialled = Counter(placed.to for placed in api.placed.values())
    # Each call's webhooks name the instance that placed it (its PUBLIC_BASE_URL).
    by_instance = Counter(
        next(b.instance_id for b in bridges if placed.params["Url"].startswith(b.url))
        for placed in api.placed.values()
    )
    print(f"two instances: calls placed by each {dict(by_instance)}, peak live {api.peak_live}")
    assert sorted(dialled) == phones and set(dialled.values()) == {1}
    assert set(by_instance) == {"a", "b"}  # both dialers took part
    assert api.peak_live <= MAX_LIVE
    assert sorted(line["phone"] for line in lines) == phones
    assert {line["outcome"] for line in lines} == {"human"}
