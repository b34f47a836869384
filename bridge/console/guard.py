"""Who may see a console page, and which posts count: the signed-in, from this site, with CSRF."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

from bridge.console.auth import ConsoleAuth, ConsoleSession, csrf_ok, same_site
from bridge.console.forms import Form, read_form

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Page = Callable[[web.Request, ConsoleSession], Awaitable[web.StreamResponse]]
Action = Callable[[web.Request, ConsoleSession, Form], Awaitable[web.StreamResponse]]


class Guard:
    def __init__(self, auth: ConsoleAuth, upload_dir: Path) -> None:
        self._auth = auth
        self._upload_dir = upload_dir

    def page(self, handler: Page, *, redirect: bool = True) -> Handler:
        """Signed-in viewers only; others are sent to the login page (or get 401)."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            session = await self._auth.session(request)
            if session is None:
                if not redirect:
                    raise web.HTTPUnauthorized(text="sign in to the console")
                raise web.HTTPSeeOther(f"/console/login?{urlencode({'next': request.path_qs})}")
            return await handler(request, session)

        return guarded

    def action(self, handler: Action) -> Handler:
        """A form post: a session, a same-site request and the session's CSRF token."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            session = await self._auth.session(request)
            if session is None or not same_site(request):
                raise web.HTTPForbidden(text="sign in to the console again")
            form = await read_form(request, self._upload_dir)
            if not csrf_ok(session, form.get("csrf")):
                await form.discard()
                raise web.HTTPForbidden(text="this form has expired: reload the page")
            return await handler(request, session, form)

        return guarded
