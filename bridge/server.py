"""`bridge serve`: check the configuration, then serve until stopped."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import resource
import signal

from bridge.app import create_app
from bridge.config import Settings
from bridge.console import register_console
from bridge.http_limits import runner_options
from bridge.logmask import NOT_CALLER_DATA
from bridge.preflight import configuration_problems
from bridge.services import build_services
from bridge.twilio.accept import GatedAppRunner, GatedSite

log = logging.getLogger(__name__)

FULL_PASS_RARELY = (700, 10, 1000)  # gen0, gen1 (defaults); gen2 100x less often

# Live calls get this long to finish when the server is asked to stop.
DRAIN_TIMEOUT_S = 30.0
# Calls still live after the drain hear a goodbye and are hung up; this long at most.
GOODBYE_TIMEOUT_S = 15.0


def serve(settings: Settings) -> int:
    problems = configuration_problems(settings)
    if problems:
        for problem in problems:
            log.error("configuration: %s", problem, extra=NOT_CALLER_DATA)
        return 2

    # Everything the server writes (call records, recordings, uploads) holds callers' data:
    # never readable by other users of the host, whatever umask it was started with.
    os.umask(0o077)
    _raise_file_limit()
    asyncio.run(_serve_until_stopped(settings))
    return 0


def _raise_file_limit() -> None:
    """Soft file limit up to the hard one: every call holds sockets, and the flood tarpit
    (bridge/twilio/accept.py) sizes itself from it; a default soft limit of 1,024 is short."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:  # some systems refuse an unlimited soft limit
            log.warning("file limit left at %d: %s", soft, exc, extra=NOT_CALLER_DATA)


async def _serve_until_stopped(settings: Settings) -> None:
    """Serve; on SIGTERM/SIGINT drain: turn new calls away, let live calls end, then close.

    aiohttp's own shutdown stops reading every open WebSocket at once, which would freeze
    the live calls; so the runner is only cleaned up once they have ended.
    """
    if settings.twilio_skip_signature:
        log.warning(
            "TWILIO_SKIP_SIGNATURE is set: webhooks and media sockets are NOT checked. "
            "Anyone who finds this server can place calls on your credits. Development only."
        )
    services = await build_services(settings)
    # What startup loaded (modules, models, dialplans) lives as long as the process: frozen,
    # the collector's full passes skip it and stay short while hundreds of calls run.
    gc.collect()
    gc.freeze()
    # A finished call is freed by reference counting (the session holds no cycles), so the
    # full pass has little to find; run at default rates it cost 30-50 ms with 300 calls
    # live, and every frame in flight came late. Young passes stay at their default rate.
    gc.set_threshold(*FULL_PASS_RARELY)
    app = create_app(services)
    register_console(app, services)
    # A source just refused its media handshakes is shut out as connections are accepted.
    runner = GatedAppRunner(
        app,
        settings.trusted_proxy_networks,
        settings.tarpit_hold_s,
        access_log=None,
        shutdown_timeout=5.0,
        **runner_options(settings),
    )
    await runner.setup()
    site = GatedSite(runner, settings.bridge_host, settings.bridge_port)
    await site.start()
    log.info("serving on %s:%d", settings.bridge_host, settings.bridge_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        # Readiness fails and new calls hear the busy message, but the listener stays open:
        # balancers polling /readyz move new calls elsewhere, a webhook that still comes gets
        # a real answer, and a call answered just before can still open its media socket.
        services.draining = True
        log.info(
            "draining: %d live calls may finish within %.0fs", len(services.live), DRAIN_TIMEOUT_S
        )
        await services.live_calls_ended(DRAIN_TIMEOUT_S)
        await services.end_live_calls(GOODBYE_TIMEOUT_S)
    finally:
        # Stops the listener, then closes whatever is left.
        await runner.cleanup()
