"""JSON API over call records, for the simulator, QA and the console, and outbound calls."""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.config import Settings
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
