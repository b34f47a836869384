"""The dialer: each running campaign's due contacts, dialled within its caps.

Every step settles the attempts whose calls ended (retrying no-answer, busy and failed ones
after the campaign's delay, up to its attempts), then claims contacts one at a time while
the store allows (live cap, rate, calling hours, do-not-call), and dials each claimed one.
All state is in the store, so a restarted or second instance carries on where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from twilio.rest import Client

from bridge.campaign.models import (
    CampaignInputError,
    CampaignSettings,
    next_opening,
    parse_contacts,
    within_hours,
)
from bridge.dialplan.loader import DialplanSet
from bridge.records import CallRecord, utcnow
from bridge.store.base import CallStore
from bridge.store.campaigns import Decision, SqlCampaigns
from bridge.store.database import Row
from bridge.twilio.outbound import OutboundError, fetch_status
from bridge.twilio.webhooks import record_final_status

log = logging.getLogger(__name__)

RETRYABLE = {"no_answer", "busy", "failed"}
TICK_S = 0.05
# A placed call still ringing this long after it was placed, or ended here this long ago, with
# no final status, is asked of Twilio (its status callback may have been lost), then again
# every RECHECK at most. Twilio's callback follows the end of a stream within a second or two.
STALE_AFTER = timedelta(minutes=2)
ENDED_STALE_AFTER = timedelta(seconds=10)
RECHECK = timedelta(minutes=1)
# With no campaign running, look again this much later: every bridge runs a dialer, and a poll
# every TICK_S is a store transaction and two thread hand-offs 20 times a second, for nothing.
IDLE_TICK_S = 1.0

Dial = Callable[[str, str, dict[str, str]], Awaitable[CallRecord]]
CheckCall = Callable[[str], Awaitable[None]]


async def check_call(client: Client, store: CallStore, call_sid: str) -> None:
    """A placed call whose final status never reached us: asked of Twilio, and recorded as
    its callback would have been (so its contact is settled and its place freed)."""
    status = await fetch_status(client, call_sid)
    if status is not None and await record_final_status(store, call_sid, status):
        log.warning("call %s: its final status (%s) never came; asked Twilio", call_sid, status)


def create_campaign_rows(
    dialplans: DialplanSet, settings: CampaignSettings, csv_text: str
) -> list[dict[str, Any]]:
    """The contacts of a new campaign, or CampaignInputError naming every bad row or field."""
    dialplan = dialplans.named(settings.dialplan)
    if dialplan is None:
        raise CampaignInputError([f"dialplan: no dialplan named {settings.dialplan!r}"])
    if dialplan.outbound is None:
        raise CampaignInputError([f"dialplan: {settings.dialplan!r} has no outbound: block"])
    contacts = parse_contacts(csv_text, dialplan.outbound.variables(), settings.fallback_timezone)
    return [
        {"row": c.row, "phone": c.phone, "variables": c.variables, "time_zones": c.time_zones}
        for c in contacts
    ]


async def create_campaign(
    campaigns: SqlCampaigns, dialplans: DialplanSet, settings: CampaignSettings, csv_text: str
) -> str:
    rows = create_campaign_rows(dialplans, settings, csv_text)
    campaign_id = "CM" + secrets.token_hex(8)
    await campaigns.create(campaign_id, settings.model_dump(), rows)
    log.info("campaign %s created: %d contacts", campaign_id, len(rows))
    return campaign_id


class Dialer:
    def __init__(
        self,
        campaigns: SqlCampaigns,
        dial: Dial,
        instance_id: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        tick_s: float = TICK_S,
        check: CheckCall | None = None,
    ) -> None:
        self._campaigns = campaigns
        self._dial = dial
        self._instance = instance_id
        self._clock = clock
        self._tick_s = tick_s
        self._check = check
        self._checked: dict[str, datetime] = {}  # when each unfinished call was last asked
        self.dials: list[tuple[datetime, str]] = []  # (when, campaign) of each call placed

    async def run(self) -> None:
        """Step forever (cancel to stop); a failing step is logged and retried next tick."""
        while True:
            busy = True
            try:
                busy = await self.step()
            except Exception:
                log.exception("dialer step failed")
            await asyncio.sleep(self._tick_s if busy else max(self._tick_s, IDLE_TICK_S))

    async def step(self) -> bool:
        """One pass over the running campaigns; False when there was none."""
        running = await self._campaigns.running()
        for campaign in running:
            settings = CampaignSettings.model_validate(campaign["settings"])
            campaign_id = str(campaign["campaign_id"])
            await self._settle(campaign_id, settings)
            await self._dial_due(campaign_id, settings)
            await self._campaigns.finish_if_done(campaign_id)
        return bool(running)

    async def _settle(self, campaign_id: str, settings: CampaignSettings) -> None:
        await self._check_unfinished(campaign_id)
        for ended in await self._campaigns.ended_calls(campaign_id):
            await self._attempt_ended(
                campaign_id, settings, int(ended["row_no"]), int(ended["attempts"]),
                str(ended["outcome"]),
            )  # fmt: skip

    async def _check_unfinished(self, campaign_id: str) -> None:
        if self._check is None:
            return
        now = self._clock()
        self._checked = {sid: at for sid, at in self._checked.items() if now - at < RECHECK}
        stale = await self._campaigns.unfinished_calls(
            campaign_id, now - STALE_AFTER, now - ENDED_STALE_AFTER
        )
        for call_sid in stale:
            if call_sid not in self._checked:
                self._checked[call_sid] = now
                await self._check(call_sid)

    async def _attempt_ended(
        self, campaign_id: str, settings: CampaignSettings, row: int, attempts: int, outcome: str
    ) -> None:
        retry_at = None
        if outcome in RETRYABLE and attempts < settings.max_attempts:
            retry_at = self._clock() + timedelta(seconds=settings.retry_delay_s)
        await self._campaigns.settle(campaign_id, row, outcome, retry_at)

    async def _dial_due(self, campaign_id: str, settings: CampaignSettings) -> None:
        blocked = await self._campaigns.do_not_call()

        def decide(contact: Row) -> Decision:
            if contact["phone"] in blocked:
                return "dnc"
            now = self._clock()
            if not within_hours(settings, contact["time_zones"], now):
                return next_opening(settings, contact["time_zones"], now)
            return "dial"

        while True:
            contact = await self._campaigns.claim(
                campaign_id,
                self._clock(),
                self._instance,
                max_live=settings.max_live,
                min_gap=timedelta(seconds=1 / settings.rate_per_s),
                decide=decide,
            )
            if contact is None:
                return
            row = int(contact["row_no"])
            try:
                record = await self._dial(settings.dialplan, contact["phone"], contact["variables"])
            except OutboundError as exc:
                log.warning("campaign %s row %d not dialled: %s", campaign_id, row, exc)
                await self._attempt_ended(campaign_id, settings, row, contact["attempts"], "failed")
                continue
            self.dials.append((self._clock(), campaign_id))
            await self._campaigns.dialled(campaign_id, row, record.call_sid)
