"""The page shell every console page shares, and small escaping helpers.

Pages are rendered on the server as plain HTML; the only script is static/console.js
(live updates), so a strict Content-Security-Policy allows no inline code at all.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from aiohttp import web

from bridge.console.auth import ConsoleSession

STATIC = "/console/static"
NAV = (
    ("/console", "Live"),
    ("/console/calls", "Calls"),
    ("/console/campaigns", "Campaigns"),
    ("/console/dialplans", "Dialplans"),
    ("/console/test-call", "Test call"),
)
CURRENT = ' aria-current="page"'
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; media-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def csrf_field(session: ConsoleSession) -> str:
    return f'<input type="hidden" name="csrf" value="{esc(session.csrf)}">'


def page(
    title: str,
    body: str,
    session: ConsoleSession | None,
    current: str = "",
    status: int = 200,
) -> web.Response:
    """A whole HTML page: skip link, navigation (when signed in), then `body` in <main>."""
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · Bridge console</title>
<link rel="stylesheet" href="{STATIC}/console.css">
<script src="{STATIC}/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<span class="brand">Bridge console</span>
{_nav(session, current)}
</header>
<main id="main" tabindex="-1">
<h1>{esc(title)}</h1>
{body}
</main>
</body>
</html>
"""
    return web.Response(
        text=html, content_type="text/html", status=status, headers=SECURITY_HEADERS
    )


def _nav(session: ConsoleSession | None, current: str) -> str:
    if session is None:
        return ""
    links = "".join(
        f'<li><a href="{href}"{CURRENT if href == current else ""}>{label}</a></li>'
        for href, label in NAV
    )
    return f"""<nav aria-label="Console">
<ul>{links}</ul>
<form method="post" action="/console/logout" class="logout">{csrf_field(session)}
<button type="submit">Log out {esc(session.user)}</button></form>
</nav>"""
