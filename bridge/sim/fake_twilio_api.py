"""A local stand-in for Twilio's REST API, speaking its wire format for call updates.

The bridge's real `twilio` client talks to it over loopback. It records every request, can be
told to fail or hang, and lets its owner await the update that ends a call's media stream
(real Twilio ends the stream when a call is redirected or completed).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from aiohttp import BasicAuth, web

from bridge.sim.local_server import LocalServer

_CALL_PATH = "/2010-04-01/Accounts/{account}/Calls/{call}.json"
_STATUSES = {"completed", "canceled"}


def _error(status: int, code: int, message: str) -> web.Response:
    """An error body shaped like Twilio's, which the client turns into TwilioRestException."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status)


class FakeTwilioApi(LocalServer):
    """`POST /2010-04-01/Accounts/{AC}/Calls/{CA}.json` plus `GET /_actions?CallSid=`."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._actions: list[dict[str, Any]] = []
        self._faults: list[str] = []
        self._updates: dict[str, list[dict[str, str]]] = defaultdict(list)
        self._waiters: dict[str, list[asyncio.Future[dict[str, str]]]] = defaultdict(list)
        self._release = asyncio.Event()

    def _routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(_CALL_PATH, self._update_call)
        router.add_get("/_actions", self._list_actions)

    async def close(self) -> None:
        """Requests held by `hang_next` are let go and `wait_for_update` fails; then it stops."""
        self._release.set()
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(ConnectionError("fake Twilio API stopped"))
        await super().close()

    def actions(self, call_sid: str | None = None) -> list[dict[str, Any]]:
        """Every request so far: {"method", "path", "params", "status"}, oldest first."""
        if call_sid is None:
            return list(self._actions)
        return [a for a in self._actions if a["path"].endswith(f"/Calls/{call_sid}.json")]

    def fail_next(self, count: int = 1) -> None:
        """The next `count` requests answer 500 like a Twilio outage."""
        self._faults.extend(["fail"] * count)

    def hang_next(self, count: int = 1) -> None:
        """The next `count` requests never answer (until `close`)."""
        self._faults.extend(["hang"] * count)

    async def wait_for_update(self, call_sid: str) -> dict[str, str]:
        """The form params of the first accepted update for `call_sid` (now or when it comes)."""
        if self._updates[call_sid]:
            return self._updates[call_sid][0]
        waiter: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
        self._waiters[call_sid].append(waiter)
        try:
            return await waiter
        finally:
            if waiter in self._waiters[call_sid]:
                self._waiters[call_sid].remove(waiter)

    async def _update_call(self, request: web.Request) -> web.Response:
        params = {key: str(value) for key, value in (await request.post()).items()}
        action: dict[str, Any] = {"method": request.method, "path": request.path, "params": params}
        self._actions.append(action)
        response = await self._answer(request, params)
        action["status"] = response.status
        return response

    async def _answer(self, request: web.Request, params: dict[str, str]) -> web.Response:
        if not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        if self._faults:
            fault = self._faults.pop(0)
            if fault == "hang":
                await self._release.wait()
            return _error(500, 20500, "Internal Server Error")
        account, call_sid = request.match_info["account"], request.match_info["call"]
        if account != self._account_sid:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        status = params.get("Status")
        if status is not None and status not in _STATUSES:
            return _error(400, 21218, f"Invalid Status: {status}")
        self._accept(call_sid, params)
        return web.json_response(self._call_json(account, call_sid, status or "in-progress"))

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        try:
            auth = BasicAuth.decode(header)
        except ValueError:
            return False
        return auth.login == self._account_sid and auth.password == self._auth_token

    def _accept(self, call_sid: str, params: dict[str, str]) -> None:
        self._updates[call_sid].append(params)
        for waiter in self._waiters.pop(call_sid, []):
            if not waiter.done():
                waiter.set_result(params)

    @staticmethod
    def _call_json(account: str, call_sid: str, status: str) -> dict[str, Any]:
        return {
            "sid": call_sid,
            "account_sid": account,
            "status": status,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{account}/Calls/{call_sid}.json",
        }

    async def _list_actions(self, request: web.Request) -> web.Response:
        return web.json_response(self.actions(request.query.get("CallSid")))
