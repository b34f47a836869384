"""The pages that look at calls: live calls, the searchable list, one call, its recording."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from aiohttp import web

from bridge.console.auth import ConsoleSession
from bridge.console.call_view import call_detail
from bridge.console.events import EventStreams
from bridge.console.html import esc, page
from bridge.console.list_view import (
    BadQuery,
    calls_table,
    live_panel,
    pager,
    query_from,
    search_form,
)
from bridge.console.sim_calls import SimCallRunner
from bridge.services import Services
from bridge.store.base import CallQuery

RECENT = 10
CALL_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")


class CallPages:
    def __init__(
        self,
        services: Services,
        test_calls: SimCallRunner,
        streams: EventStreams,
        recordings_dir: Path,
    ) -> None:
        self._services = services
        self._store = services.store
        self._test_calls = test_calls
        self._streams = streams
        self._recordings = recordings_dir

    # -- live calls -----------------------------------------------------------------------

    async def live(self, request: web.Request, session: ConsoleSession) -> web.StreamResponse:
        html, _ = await self._live_html()
        body = (
            '<section aria-labelledby="h-live" aria-live="polite" class="live" '
            f'data-events="/console/events/live">{html}</section>'
        )
        return page("Live calls", body, session, "/console")

    async def live_events(
        self, request: web.Request, session: ConsoleSession
    ) -> web.StreamResponse:
        return await self._streams.stream(request, self._live_html)

    async def _live_html(self) -> tuple[str, bool]:
        records = [await self._store.get(sid) for sid in list(self._services.live)]
        recent = await self._store.list_calls(CallQuery(limit=RECENT))
        return live_panel([r for r in records if r is not None], recent), False

    # -- the list -------------------------------------------------------------------------

    async def calls(self, request: web.Request, session: ConsoleSession) -> web.StreamResponse:
        fields = dict(request.query)
        dialplans = sorted(plan.name for plan in self._services.dialplans)
        form = search_form(fields, dialplans)
        try:
            query, number = query_from(fields)
        except BadQuery as exc:
            body = f'{form}<p class="error" role="alert">{esc(exc)}</p>'
            return page("Calls", body, session, "/console/calls", status=400)
        found = await self._store.list_calls(query)
        body = (
            form
            + calls_table(found, f"Calls, page {number}")
            + pager(fields, number, full_page=len(found) == query.limit)
        )
        return page("Calls", body, session, "/console/calls")

    # -- one call -------------------------------------------------------------------------

    async def call(self, request: web.Request, session: ConsoleSession) -> web.StreamResponse:
        call_sid = _call_sid(request)
        html, final = await self._call_html(call_sid)
        if html is None:
            raise web.HTTPNotFound(text="no such call")
        events = "" if final else f' data-events="/console/calls/{esc(call_sid)}/events"'
        body = f'<div class="call" aria-live="polite"{events}>{html}</div>'
        return page("Call", body, session, "/console/calls")

    async def call_events(
        self, request: web.Request, session: ConsoleSession
    ) -> web.StreamResponse:
        call_sid = _call_sid(request)

        async def render() -> tuple[str, bool]:
            html, final = await self._call_html(call_sid)
            return html or "", final

        return await self._streams.stream(request, render)

    async def _call_html(self, call_sid: str) -> tuple[str | None, bool]:
        """The call's live part, and whether it can still change (None: no such call)."""
        test_call = self._test_calls.state(call_sid)
        running = test_call is not None and test_call.status == "running"
        note = ""
        if test_call is not None:
            note = (
                f'<p class="note">Test call placed from the console: '
                f"{esc(test_call.status)}{': ' + esc(test_call.detail) if test_call.detail else ''}"
                "</p>"
            )
        record = await self._store.get(call_sid)
        if record is None:
            if test_call is None:
                return None, True
            return note + '<p class="muted">Dialling…</p>', not running
        path = self._recording(call_sid)
        recording = f"/console/calls/{call_sid}/recording.wav"
        has_recording = await asyncio.to_thread(path.is_file)
        html = note + call_detail(record, recording if has_recording else None)
        return html, record.status != "active" and not running

    async def recording(self, request: web.Request, session: ConsoleSession) -> web.StreamResponse:
        path = self._recording(_call_sid(request))
        if not await asyncio.to_thread(path.is_file):
            raise web.HTTPNotFound(text="no recording for this call")
        return web.FileResponse(
            path, headers={"Content-Type": "audio/wav", "Cache-Control": "no-store"}
        )

    def _recording(self, call_sid: str) -> Path:
        return self._recordings / f"{call_sid}.wav"


def _call_sid(request: web.Request) -> str:
    call_sid = request.match_info["call_sid"]
    if not CALL_SID.match(call_sid):
        raise web.HTTPNotFound(text="no such call")
    return call_sid
