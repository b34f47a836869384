"""Read-only JSON API over call records, for the simulator, QA and the console."""

from __future__ import annotations

import asyncio
import hmac
import re
from pathlib import Path

from aiohttp import web

from bridge.config import Settings
from bridge.proxies import direct_loopback
from bridge.store.base import CallStore


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


class CallsApi:
    def __init__(self, settings: Settings, store: CallStore, recordings: Path) -> None:
        self._settings = settings
        self._store = store
        self._recordings = recordings

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
