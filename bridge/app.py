"""The aiohttp application: routes, and the shared services' lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from bridge.api import CallsApi, CampaignsApi
from bridge.call.retention import RecordingJanitor
from bridge.health import add_health_routes, call_sid_logging, passed_on_while_draining
from bridge.http_limits import body_deadline
from bridge.proxies import forwarded_client
from bridge.services import Services
from bridge.stats import LagProbe
from bridge.twilio.admission import MEDIA_ADMISSION
from bridge.twilio.limits import StreamLimits
from bridge.twilio.media import MediaStreamHandler
from bridge.twilio.twiml import DIAL_ACTION_PATH
from bridge.twilio.webhooks import AMD_PATH, MEDIA_PATH, STATUS_PATH, TwilioWebhooks

SERVICES = web.AppKey("services", Services)


def create_app(services: Services) -> web.Application:
    """The bridge's routes over already-built services; the app closes them on cleanup.

    The console is a tool on top: whoever serves the app adds it (`register_console`).
    """
    settings = services.settings
    app = web.Application(
        middlewares=[
            forwarded_client(settings),
            passed_on_while_draining(services),
            body_deadline(settings),
            call_sid_logging,
        ]
    )
    app[SERVICES] = services
    webhooks = TwilioWebhooks(
        settings,
        services.dialplans,
        services.tokens,
        services.store,
        services.accepting_calls,
        services.verdicts.received,
        services.courier.call_over,
    )
    app.cleanup_ctx.append(services.courier.run)
    app.router.add_post("/twilio/voice", webhooks.voice)
    app.router.add_post(STATUS_PATH, webhooks.status)
    app.router.add_post(DIAL_ACTION_PATH, webhooks.dial_action)
    app.router.add_post(AMD_PATH, webhooks.amd)
    services.warm.add_routes(app.router)
    # Frame and loop lag plus the speech pool's queueing, for `bridge bench` and operators.
    probe = LagProbe(settings, services.speech.pool, lambda: len(services.live))
    limits = StreamLimits(
        start_timeout_s=settings.media_start_timeout_s,
        max_waiting_for_start=settings.media_waiting_limit,
        connections_per_s_per_source=settings.connections_per_s_per_address,
        connection_burst_per_source=max(1, round(4 * settings.connections_per_s_per_address)),
    )
    media = MediaStreamHandler(settings, services.tokens, services.start_call, probe.stream, limits)
    app.router.add_get(MEDIA_PATH, media.handle)
    app[MEDIA_ADMISSION] = media.admission  # for the runner's AcceptGate
    app.router.add_get("/api/stats", probe.handler)
    app.cleanup_ctx.append(probe.watch_loop)
    calls_api = CallsApi(settings, services.store, services.recordings_dir, services.dial)
    app.router.add_get("/api/calls/{call_sid}", calls_api.get_call)
    app.router.add_get("/api/calls/{call_sid}/recording.wav", calls_api.get_recording)
    app.router.add_post("/api/calls", calls_api.place_call)
    janitor = RecordingJanitor(services.recordings_dir, services.store, services.dialplans)
    app.cleanup_ctx.append(janitor.run)
    CampaignsApi(settings, services.store, services.dialplans).add_routes(app.router)
    app.cleanup_ctx.append(_dialer)
    add_health_routes(app, services)
    app.on_shutdown.append(_stop_taking_calls)
    app.on_cleanup.append(_close_services)
    return app


async def _dialer(app: web.Application) -> AsyncIterator[None]:
    """The campaign dialer, and the relay of AMD verdicts other instances received, run while
    the app serves."""
    services = app[SERVICES]
    tasks = [
        asyncio.create_task(services.dialer.run(), name="campaign dialer"),
        asyncio.create_task(services.verdicts.run(), name="verdict relay"),
    ]
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _stop_taking_calls(app: web.Application) -> None:
    app[SERVICES].draining = True


async def _close_services(app: web.Application) -> None:
    await app[SERVICES].close()
