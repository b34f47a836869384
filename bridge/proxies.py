"""Who a request comes from: the peer itself, or what a trusted proxy in front says.

Only proxies named in TRUSTED_PROXIES are believed: their `X-Forwarded-For` gives the client's
address (the nearest hop that is not a trusted proxy) and `X-Forwarded-Proto` the scheme the
client used, so `request.remote` and `request.secure` are right everywhere behind them. From
anyone else those headers are ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from ipaddress import IPv4Network, IPv6Network, ip_address

from aiohttp import web

from bridge.config import Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Networks = list[IPv4Network | IPv6Network]

# Headers only a proxy adds: their presence means the peer is not the client.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def _within(address: str, networks: Networks) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def _client(forwarded_for: str, networks: Networks) -> str | None:
    """The nearest hop in X-Forwarded-For that is not one of our trusted proxies."""
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, networks):
            return hop if _is_ip(hop) else None
    return hops[0] if hops else None


def _is_ip(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def forwarded_client(settings: Settings) -> Callable[[web.Request, Handler], Awaitable]:
    """Middleware: behind a trusted proxy, the request's client address and scheme as sent."""
    networks = settings.trusted_proxy_networks

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if networks and _within(request.remote or "", networks):
            changes: dict[str, str] = {}
            client = _client(request.headers.get("X-Forwarded-For", ""), networks)
            if client:
                changes["remote"] = client
            proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                changes["scheme"] = proto
            if changes:
                request = request.clone(**changes)
        return await handler(request)

    return middleware


def direct_loopback(request: web.Request) -> bool:
    """A client on this host talking to us directly: loopback, and through no proxy."""
    if any(header in request.headers for header in FORWARDING_HEADERS):
        return False
    try:
        return ip_address(request.remote or "").is_loopback
    except ValueError:
        return False
