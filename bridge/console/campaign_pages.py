"""The campaigns pages: the list and a new campaign from a CSV upload; one campaign's progress
(live), its pause/resume/cancel, its contacts and calls, and its results to download."""

from __future__ import annotations

import asyncio
import json
import re

from aiohttp import web
from pydantic import ValidationError

from bridge.api import MOVES
from bridge.campaign.dialer import create_campaign
from bridge.campaign.export import as_csv, results
from bridge.campaign.models import CampaignInputError, CampaignSettings, field_problems
from bridge.console.auth import ConsoleSession
from bridge.console.campaign_view import campaign_list, new_campaign_form, progress, summary
from bridge.console.events import EventStreams
from bridge.console.forms import Form
from bridge.console.html import esc, page
from bridge.services import Services

CAMPAIGN_ID = re.compile(r"^CM[0-9a-f]{16}$")
SETTINGS_FIELDS = (
    "dialplan", "max_live", "rate_per_s", "hours", "retry_delay_s", "max_attempts",
    "fallback_timezone",
)  # fmt: skip
FINAL = ("done", "canceled")


class CampaignPages:
    def __init__(self, services: Services, streams: EventStreams) -> None:
        self._services = services
        self._campaigns = services.store.campaigns
        self._streams = streams

    def _outbound_plans(self) -> list[str]:
        return sorted(plan.name for plan in self._services.dialplans if plan.outbound is not None)

    # -- the list and a new campaign ------------------------------------------------------

    async def list(self, request: web.Request, session: ConsoleSession) -> web.StreamResponse:
        return await self._list_page(session, {}, [])

    async def create(
        self, request: web.Request, session: ConsoleSession, form: Form
    ) -> web.StreamResponse:
        """A campaign from the uploaded CSV; every problem is shown and nothing is stored."""
        try:
            text = await _contacts_text(form)
        finally:
            await form.discard()
        values = {name: form.get(name) for name in SETTINGS_FIELDS if form.get(name).strip()}
        try:
            settings = CampaignSettings.model_validate(values)
        except ValidationError as exc:
            return await self._list_page(session, form.fields, field_problems(exc), status=400)
        if text is None:
            return await self._list_page(
                session, form.fields, ["contacts: choose a CSV file (UTF-8 text)"], status=400
            )
        try:
            campaign_id = await create_campaign(
                self._campaigns, self._services.dialplans, settings, text
            )
        except CampaignInputError as exc:
            return await self._list_page(session, form.fields, exc.problems, status=400)
        raise web.HTTPSeeOther(f"/console/campaigns/{campaign_id}")

    async def _list_page(
        self,
        session: ConsoleSession,
        fields: dict[str, str],
        problems: list[str],
        status: int = 200,
    ) -> web.Response:
        campaigns = await self._campaigns.all()
        counts = [await self._campaigns.counts(str(c["campaign_id"])) for c in campaigns]
        body = campaign_list(campaigns, counts) + new_campaign_form(
            session, self._outbound_plans(), fields, problems
        )
        return page("Campaigns", body, session, "/console/campaigns", status=status)

    # -- one campaign ---------------------------------------------------------------------

    async def campaign(self, request: web.Request, session: ConsoleSession) -> web.StreamResponse:
        campaign_id = _campaign_id(request)
        campaign = await self._campaigns.get(campaign_id)
        if campaign is None:
            raise web.HTTPNotFound(text="no such campaign")
        html, final = await self._progress(campaign_id)
        events = "" if final else f' data-events="/console/campaigns/{campaign_id}/events"'
        note = request.query.get("note", "")
        alert = f'<p class="note" role="status">{esc(_NOTES[note])}</p>' if note in _NOTES else ""
        body = (
            alert
            + summary(campaign, session)
            + f'<section class="progress" aria-live="polite"{events}>{html}</section>'
        )
        return page(f"Campaign {campaign_id}", body, session, "/console/campaigns")

    async def events(self, request: web.Request, session: ConsoleSession) -> web.StreamResponse:
        campaign_id = _campaign_id(request)

        async def render() -> tuple[str, bool]:
            return await self._progress(campaign_id)

        return await self._streams.stream(request, render)

    async def _progress(self, campaign_id: str) -> tuple[str, bool]:
        """The campaign's changing part, and whether it can still change."""
        campaign = await self._campaigns.get(campaign_id)
        if campaign is None:
            return '<p class="muted">No such campaign.</p>', True
        contacts = await self._campaigns.contacts(campaign_id)
        final = campaign["status"] in FINAL and not any(
            c["state"] in ("dialing", "live") for c in contacts
        )
        return progress(campaign, contacts), final

    async def move(
        self, request: web.Request, session: ConsoleSession, form: Form
    ) -> web.StreamResponse:
        campaign_id = _campaign_id(request)
        move = MOVES.get(request.match_info["action"])
        if move is None or await self._campaigns.get(campaign_id) is None:
            raise web.HTTPNotFound(text="no such campaign or action")
        status, allowed_from = move
        changed = await self._campaigns.set_status(campaign_id, status, allowed_from)
        note = status if changed else "unchanged"
        raise web.HTTPSeeOther(f"/console/campaigns/{campaign_id}?note={note}")

    async def results(self, request: web.Request, session: ConsoleSession) -> web.StreamResponse:
        campaign_id = _campaign_id(request)
        if await self._campaigns.get(campaign_id) is None:
            raise web.HTTPNotFound(text="no such campaign")
        lines = results(
            await self._campaigns.contacts(campaign_id), self._services.settings.public_base_url
        )
        kind = request.match_info["kind"]
        text = as_csv(lines) if kind == "csv" else json.dumps(lines, indent=1)
        return web.Response(
            text=text,
            content_type="text/csv" if kind == "csv" else "application/json",
            headers={
                "Content-Disposition": f'attachment; filename="{campaign_id}-results.{kind}"',
                "Cache-Control": "no-store",
            },
        )


# What a pause, resume or cancel left to say on the campaign's page.
_NOTES = {
    "paused": "Paused: calls live go on; no new call is placed until it is resumed.",
    "running": "Resumed.",
    "canceled": "Canceled: contacts not yet dialled are closed; calls live go on to their end.",
    "unchanged": "Nothing changed: the campaign was not in a state that allows that.",
}


async def _contacts_text(form: Form) -> str | None:
    """The uploaded CSV as text, or None when there is none or it is not UTF-8."""
    if form.upload is None:
        return None
    try:
        return await asyncio.to_thread(form.upload.read_text, encoding="utf-8-sig")
    except UnicodeDecodeError:
        return None


def _campaign_id(request: web.Request) -> str:
    campaign_id = request.match_info["campaign_id"]
    if not CAMPAIGN_ID.match(campaign_id):
        raise web.HTTPNotFound(text="no such campaign")
    return campaign_id
