"""`/healthz`, `/readyz` and `/metrics`, and the middleware that names the call in webhook logs.

`/healthz` says the process answers. `/readyz` says it should be sent new calls: the speech
models are loaded and have room, the call store answers, and the instance is not draining.
A load balancer or Kubernetes stops routing to an instance whose `/readyz` fails, while the
calls it holds (their WebSockets) carry on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from bridge.observability.logs import bind_call, unbind_call
from bridge.services import Services
from bridge.store import CallQuery
from bridge.twilio.webhooks import MEDIA_PATH

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

STORE_TIMEOUT_S = 2.0
WEBHOOK_PATHS = frozenset({"/twilio/voice", "/twilio/status"})
# A proxy that can try another instance marks new-call requests with this header (the shipped
# nginx does, and retries on 503): a draining instance passes such calls on instead of
# answering them busy. Unmarked requests still get the draining answer (overflow TwiML).
RETRY_ELSEWHERE = "X-Bridge-Retry-Elsewhere"
NEW_CALL_PATHS = frozenset({"/twilio/voice", MEDIA_PATH})


class HealthRoutes:
    def __init__(self, services: Services) -> None:
        self._services = services

    async def alive(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "instance": self._services.instance_id})

    async def ready(self, request: web.Request) -> web.Response:
        checks = {
            "speech": self._speech_check(),
            "store": await self._store_check(),
            "draining": "draining" if self._services.draining else "ok",
        }
        ready = all(result == "ok" for result in checks.values())
        body = {
            "status": "ready" if ready else "not ready",
            "instance": self._services.instance_id,
            "live_calls": len(self._services.live),
            "checks": checks,
        }
        return web.json_response(body, status=200 if ready else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        # Rendering walks every metric; on the loop it takes microseconds per series.
        response = web.Response(body=generate_latest(REGISTRY))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    def _speech_check(self) -> str:
        # The services exist only once the models are loaded; what can change is room.
        stats = self._services.speech.pool.stats()
        return "ok" if stats.waiting < stats.queue_limit else "saturated"

    async def _store_check(self) -> str:
        try:
            async with asyncio.timeout(STORE_TIMEOUT_S):
                await self._services.store.list_calls(CallQuery(limit=1))
        except Exception as exc:
            log.warning("readiness: the call store does not answer: %s", exc)
            return "unreachable"
        return "ok"


def add_health_routes(app: web.Application, services: Services) -> None:
    routes = HealthRoutes(services)
    app.router.add_get("/healthz", routes.alive)
    app.router.add_get("/readyz", routes.ready)
    app.router.add_get("/metrics", routes.metrics)


@web.middleware
async def call_sid_logging(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    """Twilio's webhooks carry the CallSid in their form: bind it before the handler logs."""
    if (
        request.method != "POST"
        or request.path not in WEBHOOK_PATHS
        or request.content_type != "application/x-www-form-urlencoded"
    ):
        # Twilio's form posts only: other bodies are the handler's to refuse, unparsed.
        return await handler(request)
    form = await request.post()  # kept on the request; the handler reads the same form
    call_sid = form.get("CallSid")
    if not isinstance(call_sid, str):
        return await handler(request)
    # Reset after: the connection's next request may belong to another call.
    token = bind_call(call_sid)
    try:
        return await handler(request)
    finally:
        unbind_call(token)


def passed_on_while_draining(services: Services) -> Middleware:
    """Middleware: while draining, a new call marked `RETRY_ELSEWHERE` gets 503 at once."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            services.draining
            and request.path in NEW_CALL_PATHS
            and RETRY_ELSEWHERE in request.headers
        ):
            raise web.HTTPServiceUnavailable(text="draining: try another instance")
        return await handler(request)

    return middleware
