"""JSON API over call records, for the simulator, QA and the console, and outbound calls."""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.campaign.dialer import create_campaign
from bridge.campaign.export import as_csv, results
from bridge.campaign.models import CampaignInputError, CampaignSettings, field_problems
from bridge.config import Settings
from bridge.dialplan.loader import DialplanSet
from bridge.proxies import direct_loopback
from bridge.records import CallRecord
from bridge.store.base import CallStore
from bridge.twilio.outbound import OutboundError

Dial = Callable[[str, str, dict[str, str]], Awaitable[CallRecord]]


def authorized(settings: Settings, request: web.Request) -> bool:
    """With BRIDGE_ADMIN_TOKEN set, a matching bearer token; without it, loopback clients only,
    and only directly: a proxy on this host connects from loopback on behalf of anyone."""
    token = settings.admin_token.get_secret_value()
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(given.encode(), token.encode())
    return direct_loopback(request)


# A CallSid names a file in the recordings folder: letters and digits only, never a path.
CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")


class DialRequest(BaseModel):
    """`POST /api/calls`: one outbound call."""

    model_config = ConfigDict(extra="forbid")

    to: str
    dialplan: str
    variables: dict[str, str] = Field(default_factory=dict)


class CallsApi:
    def __init__(self, settings: Settings, store: CallStore, recordings: Path, dial: Dial) -> None:
        self._settings = settings
        self._store = store
        self._recordings = recordings
        self._dial = dial

    async def get_recording(self, request: web.Request) -> web.StreamResponse:
        """`GET /api/calls/{call_sid}/recording.wav`: the call's stereo recording (caller
        left, agent right), to the admin token only."""
        if not authorized(self._settings, request):
            raise web.HTTPUnauthorized(text="admin token required")
        call_sid = request.match_info["call_sid"]
        path = self._recordings / f"{call_sid}.wav"
        if not CALL_SID.match(call_sid) or not await asyncio.to_thread(path.is_file):
            raise web.HTTPNotFound(text="no recording for this call")
        return web.FileResponse(
            path, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"}
        )

    async def get_call(self, request: web.Request) -> web.Response:
        """`GET /api/calls/{call_sid}`: the call record with turns and Twilio actions."""
        if not authorized(self._settings, request):
            raise web.HTTPUnauthorized(text="admin token required")
        record = await self._store.get(request.match_info["call_sid"])
        if record is None:
            raise web.HTTPNotFound(text="no such call")
        return web.json_response(text=record.model_dump_json())

    async def place_call(self, request: web.Request) -> web.Response:
        """`POST /api/calls` `{"to", "dialplan", "variables"}`: 201 and the call's record."""
        if not authorized(self._settings, request):
            raise web.HTTPUnauthorized(text="admin token required")
        try:
            body = DialRequest.model_validate_json(await request.text())
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "body"
            raise web.HTTPBadRequest(text=f"{field}: {first['msg']}") from None
        try:
            record = await self._dial(body.dialplan, body.to, body.variables)
        except OutboundError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response(text=record.model_dump_json(), status=201)


# Each campaign action: the status it sets, and the statuses it may set it from.
MOVES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pause": ("paused", ("running",)),
    "resume": ("running", ("paused",)),
    "cancel": ("canceled", ("running", "paused")),
}


class NewCampaign(CampaignSettings):
    """`POST /api/campaigns`: the settings, and the contacts as CSV text."""

    contacts_csv: str


class CampaignsApi:
    """Campaigns over JSON: create, look, pause/resume/cancel, results as CSV or JSON."""

    def __init__(self, settings: Settings, store: CallStore, dialplans: DialplanSet) -> None:
        self._settings = settings
        self._campaigns = store.campaigns
        self._dialplans = dialplans

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/api/campaigns", self.create)
        router.add_get("/api/campaigns", self.list)
        router.add_get("/api/campaigns/{campaign_id}", self.get)
        router.add_post("/api/campaigns/{campaign_id}/{action}", self.move)
        router.add_get("/api/campaigns/{campaign_id}/results", self.results)

    def _check(self, request: web.Request) -> None:
        if not authorized(self._settings, request):
            raise web.HTTPUnauthorized(text="admin token required")

    async def create(self, request: web.Request) -> web.Response:
        self._check(request)
        try:
            body = NewCampaign.model_validate_json(await request.text())
        except ValidationError as exc:
            return web.json_response({"problems": field_problems(exc)}, status=400)
        settings = CampaignSettings.model_validate(body.model_dump(exclude={"contacts_csv"}))
        try:
            campaign_id = await create_campaign(
                self._campaigns, self._dialplans, settings, body.contacts_csv
            )
        except CampaignInputError as exc:
            return web.json_response({"problems": exc.problems}, status=400)
        counts = await self._campaigns.counts(campaign_id)
        return web.json_response(
            {"campaign_id": campaign_id, "contacts": sum(counts.values())}, status=201
        )

    async def list(self, request: web.Request) -> web.Response:
        self._check(request)
        campaigns = await self._campaigns.all()
        return web.json_response(text=json.dumps(campaigns, default=str))

    async def get(self, request: web.Request) -> web.Response:
        self._check(request)
        campaign_id = request.match_info["campaign_id"]
        campaign = await self._campaigns.get(campaign_id)
        if campaign is None:
            raise web.HTTPNotFound(text="no such campaign")
        campaign["contacts"] = await self._campaigns.counts(campaign_id)
        return web.json_response(text=json.dumps(campaign, default=str))

    async def move(self, request: web.Request) -> web.Response:
        self._check(request)
        move = MOVES.get(request.match_info["action"])
        if move is None:
            raise web.HTTPNotFound(text="actions: pause, resume, cancel")
        campaign_id = request.match_info["campaign_id"]
        if await self._campaigns.get(campaign_id) is None:
            raise web.HTTPNotFound(text="no such campaign")
        status, allowed_from = move
        if not await self._campaigns.set_status(campaign_id, status, allowed_from):
            raise web.HTTPConflict(text=f"only a campaign {' or '.join(allowed_from)} can be")
        return web.json_response({"campaign_id": campaign_id, "status": status})

    async def results(self, request: web.Request) -> web.Response:
        self._check(request)
        campaign_id = request.match_info["campaign_id"]
        if await self._campaigns.get(campaign_id) is None:
            raise web.HTTPNotFound(text="no such campaign")
        lines = results(await self._campaigns.contacts(campaign_id), self._settings.public_base_url)
        if request.query.get("format", "json") == "csv":
            return web.Response(text=as_csv(lines), content_type="text/csv")
        return web.json_response(lines)
