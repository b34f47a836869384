"""The login and logout pages."""

from __future__ import annotations

from aiohttp import web

from bridge.console.auth import ConsoleAuth, ConsoleSession, same_site
from bridge.console.forms import Form
from bridge.console.html import esc, page
from bridge.console.throttle import LoginThrottle


class LoginPages:
    def __init__(self, auth: ConsoleAuth, throttle: LoginThrottle | None = None) -> None:
        self._auth = auth
        self._throttle = throttle or LoginThrottle()

    async def form(self, request: web.Request) -> web.StreamResponse:
        if await self._auth.session(request) is not None:
            raise web.HTTPSeeOther(_next(request.query.get("next", "")))
        return self._form(request.query.get("next", ""), error="")

    async def submit(self, request: web.Request) -> web.StreamResponse:
        if not same_site(request):
            raise web.HTTPForbidden(text="cross-site login refused")
        if request.content_type != "application/x-www-form-urlencoded":
            raise web.HTTPUnsupportedMediaType(text="the login form is posted urlencoded")
        posted = await request.post()
        fields = {key: value for key, value in posted.items() if isinstance(value, str)}
        # Admitted first, checked second: no answer comes sooner for a right guess.
        async with self._throttle.attempt(request.remote or ""):
            user = self._auth.check(
                fields.get("user", ""), fields.get("password", ""), fields.get("token", "")
            )
        if user is None:
            return self._form(fields.get("next", ""), error="Wrong credentials.", status=401)
        response = web.HTTPSeeOther(_next(fields.get("next", "")))
        self._auth.start_session(request, response, user)
        raise response

    async def logout(
        self, request: web.Request, session: ConsoleSession, form: Form
    ) -> web.StreamResponse:
        response = web.HTTPSeeOther("/console/login")
        await self._auth.end_session(session, response)
        raise response

    def _form(self, next_path: str, error: str, status: int = 200) -> web.Response:
        fields = []
        if self._auth.accepts_password:
            fields.append(
                '<div><label for="user">User</label>'
                '<input id="user" name="user" autocomplete="username"></div>'
                '<div><label for="password">Password</label>'
                '<input id="password" name="password" type="password" '
                'autocomplete="current-password"></div>'
            )
        if self._auth.accepts_token:
            label = "Or an admin token" if fields else "Admin token"
            fields.append(
                f'<div><label for="token">{label}</label>'
                '<input id="token" name="token" type="password" autocomplete="off"></div>'
            )
        alert = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        body = f"""{alert}<form method="post" action="/console/login" class="stack login">
<input type="hidden" name="next" value="{esc(next_path)}">
{"".join(fields)}
<div><button type="submit">Log in</button></div>
</form>"""
        return page("Log in", body, None, status=status)


def _next(path: str) -> str:
    """Only back into the console: never to another site (`//host`) after logging in."""
    if path.startswith("/console") and not path.startswith("//") and "\\" not in path:
        return path
    return "/console"
