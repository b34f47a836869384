"""Puts the console's routes on the app, or a plain 404 when no login is configured."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bridge.console.admin_pages import AdminPages
from bridge.console.auth import ConsoleAuth, console_enabled
from bridge.console.campaign_pages import CampaignPages
from bridge.console.events import EventStreams
from bridge.console.guard import Guard
from bridge.console.login import LoginPages
from bridge.console.pages import CallPages
from bridge.console.sim_calls import SimCallRunner
from bridge.services import Services

STATIC_DIR = Path(__file__).parent / "static"
DISABLED = (
    "The console is disabled: set CONSOLE_TOKEN, or CONSOLE_USER and CONSOLE_PASSWORD, "
    "to turn it on."
)


def register_console(app: web.Application, services: Services) -> None:
    settings = services.settings
    if not console_enabled(settings):
        app.router.add_route("*", "/console", _disabled)
        app.router.add_route("*", "/console/{tail:.*}", _disabled)
        return
    recordings = services.recordings_dir
    auth = ConsoleAuth(settings, services.store.trust)
    guard = Guard(auth, settings.data_dir / "console-uploads")
    streams = EventStreams()
    test_calls = SimCallRunner(settings, services.store, services.speech.caller_tts, recordings)
    calls = CallPages(services, test_calls, streams, recordings)
    admin = AdminPages(services, test_calls)
    login = LoginPages(auth)
    campaigns = CampaignPages(services, streams)

    routes = app.router
    routes.add_get("/console/login", login.form)
    routes.add_post("/console/login", login.submit)
    routes.add_post("/console/logout", guard.action(login.logout))
    routes.add_get("/console", guard.page(calls.live))
    routes.add_get("/console/events/live", guard.page(calls.live_events, redirect=False))
    routes.add_get("/console/calls", guard.page(calls.calls))
    routes.add_get("/console/calls/{call_sid}", guard.page(calls.call))
    routes.add_get(
        "/console/calls/{call_sid}/events", guard.page(calls.call_events, redirect=False)
    )
    routes.add_get(
        "/console/calls/{call_sid}/recording.wav", guard.page(calls.recording, redirect=False)
    )
    routes.add_get("/console/dialplans", guard.page(admin.dialplans))
    routes.add_get("/console/test-call", guard.page(admin.test_call_form))
    routes.add_post("/console/test-call", guard.action(admin.place_test_call))
    routes.add_get("/console/campaigns", guard.page(campaigns.list))
    routes.add_post("/console/campaigns", guard.action(campaigns.create))
    routes.add_get("/console/campaigns/{campaign_id}", guard.page(campaigns.campaign))
    routes.add_get(
        "/console/campaigns/{campaign_id}/events", guard.page(campaigns.events, redirect=False)
    )
    routes.add_get(
        "/console/campaigns/{campaign_id}/results.{kind:csv|json}",
        guard.page(campaigns.results, redirect=False),
    )
    routes.add_post(
        "/console/campaigns/{campaign_id}/{action:pause|resume|cancel}",
        guard.action(campaigns.move),
    )
    routes.add_static("/console/static", STATIC_DIR)
    # Last, so it only catches what no page matched: `/console/` is typed as often as `/console`.
    routes.add_get("/console{path:(/.*)?}/", _without_trailing_slash)

    async def stop(app: web.Application) -> None:
        await streams.stop(app)
        await test_calls.close()

    app.on_shutdown.append(stop)


async def _without_trailing_slash(request: web.Request) -> web.Response:
    query = f"?{request.query_string}" if request.query_string else ""
    raise web.HTTPMovedPermanently(request.path.rstrip("/") + query)


async def _disabled(request: web.Request) -> web.Response:
    return web.Response(status=404, text=DISABLED)
