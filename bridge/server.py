"""`bridge serve`: check the configuration, then serve until stopped."""

from __future__ import annotations

import logging

from aiohttp import web

from bridge.app import create_app
from bridge.config import Settings
from bridge.preflight import configuration_problems
from bridge.services import build_services

log = logging.getLogger(__name__)

# Live calls get this long to finish when the server is asked to stop.
DRAIN_TIMEOUT_S = 30.0


def serve(settings: Settings) -> int:
    problems = configuration_problems(settings)
    if problems:
        for problem in problems:
            log.error("configuration: %s", problem)
        return 2

    async def make_app() -> web.Application:
        return create_app(await build_services(settings))

    web.run_app(
        make_app(),
        host=settings.bridge_host,
        port=settings.bridge_port,
        shutdown_timeout=DRAIN_TIMEOUT_S,
        print=None,
        access_log=None,
    )
    return 0
