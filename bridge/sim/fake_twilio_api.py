"""A local stand-in for Twilio's REST API, speaking its wire format for call updates.

The bridge's real `twilio` client talks to it over loopback. It records every request, can be
told to fail or hang, and lets its owner await the update that ends a call's media stream
(real Twilio ends the stream when a call is redirected or completed). Told how dialled legs
end (`play_dials`), it answers a `<Dial action>` as Twilio would: a signed POST of the
DialCallStatus to the action URL, whose TwiML its owner can await (`dial_answer`).
Calls the bridge places (`calls.create`) are played by a `CalleePlayer` when one is set, and
counted: how many were live at once, and when each started. A call to a number given a
kind in `humans.kinds` is a warm transfer's human instead (`fake_twilio_humans`), and a
call updated into a `<Dial><Conference>` waits in `conferences`.
"""

from __future__ import annotations

import asyncio
import secrets
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any

import aiohttp
from aiohttp import BasicAuth, web

from bridge.dialplan.models import E164
from bridge.sim.callee import CalleePlayer, PlacedCall
from bridge.sim.fake_twilio_humans import Conferences, HumanPlayer
from bridge.sim.handshake import new_call_sid
from bridge.sim.local_server import LocalServer
from bridge.twilio.signature import sign_request

_CALL_PATH = "/2010-04-01/Accounts/{account}/Calls/{call}.json"
_CALLS_PATH = "/2010-04-01/Accounts/{account}/Calls.json"
_STATUSES = {"completed", "canceled"}
_FINAL = {"completed", "canceled", "no-answer", "busy", "failed"}


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
        self._dial_status: str | None = None
        self._dial_answers: dict[str, asyncio.Future[str]] = {}
        self._dial_tasks: set[asyncio.Task[None]] = set()
        self.player: CalleePlayer | None = None
        self.placed: dict[str, PlacedCall] = {}
        self.live: set[str] = set()
        self.peak_live = 0
        self.created_at: list[float] = []  # loop time of each accepted `calls.create`
        self._callee_tasks: set[asyncio.Task[None]] = set()
        # Warm transfers: the humans called (by number) and the rooms callers wait in.
        self.conferences = Conferences(self._post_later)
        self._gone: set[str] = set()  # callers who hung up: their calls take no updates
        self.humans = HumanPlayer(account_sid, auth_token, self.conferences)

    def _routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(_CALLS_PATH, self._create_call)
        router.add_post(_CALL_PATH, self._update_call)
        router.add_get(_CALL_PATH, self._fetch_call)
        router.add_get("/_actions", self._list_actions)

    async def close(self) -> None:
        """Requests held by `hang_next` are let go and `wait_for_update` fails; then it stops."""
        self._release.set()
        for task in self._dial_tasks:
            task.cancel()
        await asyncio.gather(*self._dial_tasks, return_exceptions=True)
        for task in self._callee_tasks:
            task.cancel()
        await asyncio.gather(*self._callee_tasks, return_exceptions=True)
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

    def play_dials(self, status: str | None) -> None:
        """Every `<Dial action>` from now on ends with this DialCallStatus (`no-answer`,
        `busy`, `failed`, `completed`); None: dials are left alone."""
        self._dial_status = status

    async def dial_answer(self, call_sid: str) -> str:
        """The TwiML the bridge answered the call's `<Dial>` action with."""
        return await self._dial_answer(call_sid)

    def _dial_answer(self, call_sid: str) -> asyncio.Future[str]:
        if call_sid not in self._dial_answers:
            self._dial_answers[call_sid] = asyncio.get_running_loop().create_future()
        return self._dial_answers[call_sid]

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

    async def _fetch_call(self, request: web.Request) -> web.Response:
        """`calls(sid).fetch()`: a placed call's status as the callee left it."""
        if not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        placed = self.placed.get(request.match_info["call"])
        if placed is None or request.match_info["account"] != self._account_sid:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        return web.json_response(self._call_json(self._account_sid, placed.call_sid, placed.status))

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
        if call_sid in self._gone:
            return _error(400, 21220, "Call is not in-progress. Cannot redirect.")
        status = params.get("Status")
        if status is not None and status not in _STATUSES:
            return _error(400, 21218, f"Invalid Status: {status}")
        self._accept(call_sid, params)
        return web.json_response(self._call_json(account, call_sid, status or "in-progress"))

    async def _create_call(self, request: web.Request) -> web.Response:
        """`calls.create`: checked like Twilio checks it, then played by the callee player."""
        params = {key: str(value) for key, value in (await request.post()).items()}
        action: dict[str, Any] = {"method": request.method, "path": request.path, "params": params}
        self._actions.append(action)
        response = self._created(request, params)
        action["status"] = response.status
        return response

    def _created(self, request: web.Request, params: dict[str, str]) -> web.Response:
        if not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        if self._faults:
            self._faults.pop(0)
            return _error(500, 20500, "Internal Server Error")
        if request.match_info["account"] != self._account_sid:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        to = params.get("To", "")
        if not (E164.match(to) or to.startswith(("sip:", "sips:"))):
            return _error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not E164.match(params.get("From", "")):
            return _error(400, 21212, f"Invalid 'From' Phone Number: {params.get('From', '')}")
        if not params.get("Url") and not params.get("Twiml"):
            return _error(400, 21205, "Url parameter is required")
        if self.humans.takes(to):
            call_sid = new_call_sid()
            self._own(self.humans.play(call_sid, params))
            body = self._call_json(self._account_sid, call_sid, "queued")
            return web.json_response(body, status=201)
        placed = PlacedCall(call_sid=new_call_sid(), params=params)
        self.placed[placed.call_sid] = placed
        self.created_at.append(asyncio.get_running_loop().time())
        self._counted(placed)
        if self.player is not None:
            self._own(self._play(self.player, placed))
        body = self._call_json(self._account_sid, placed.call_sid, "queued")
        body.update({"to": params["To"], "from": params["From"], "direction": "outbound-api"})
        return web.json_response(body, status=201)

    def caller_hangs_up(self, call_sid: str) -> None:
        """The caller of `call_sid` hangs up: out of any conference, and no more updates."""
        self._gone.add(call_sid)
        self.conferences.leave(call_sid, "participant_hung_up")

    def _post_later(self, url: str, fields: dict[str, str]) -> None:
        """A signed callback to the bridge, as Twilio posts one, in its own task."""
        form = {"AccountSid": self._account_sid, **fields}
        self._own(self._post(url, form))

    async def _post(self, url: str, form: dict[str, str]) -> None:
        headers = {"X-Twilio-Signature": sign_request(self._auth_token, url, form)}
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=form, headers=headers) as response:
                await response.read()

    def _own(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._callee_tasks.add(task)
        task.add_done_callback(self._callee_tasks.discard)

    async def _play(self, player: CalleePlayer, placed: PlacedCall) -> None:
        ended_by_bridge = asyncio.Event()

        async def watch() -> None:
            await self.wait_for_update(placed.call_sid)
            ended_by_bridge.set()

        watcher = asyncio.create_task(watch())
        try:
            await player.play(placed, ended_by_bridge, self._counted)
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    def _counted(self, placed: PlacedCall) -> None:
        """A placed call is live from `calls.create` to its final status."""
        if placed.status in _FINAL:
            self.live.discard(placed.call_sid)
        else:
            self.live.add(placed.call_sid)
            self.peak_live = max(self.peak_live, len(self.live))

    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        try:
            auth = BasicAuth.decode(header)
        except ValueError:
            return False
        return auth.login == self._account_sid and auth.password == self._auth_token

    def _accept(self, call_sid: str, params: dict[str, str]) -> None:
        if "Twiml" in params:
            self.conferences.follow(call_sid, params["Twiml"])
        action = _dial_action(params.get("Twiml", ""))
        if action is not None and self._dial_status is not None:
            task = asyncio.create_task(self._post_dial_action(call_sid, action, self._dial_status))
            self._dial_tasks.add(task)
            task.add_done_callback(self._dial_tasks.discard)
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

    async def _post_dial_action(self, call_sid: str, url: str, status: str) -> None:
        """Twilio's request to a `<Dial action>` once the dialled leg ended with `status`."""
        form = {
            "AccountSid": self._account_sid,
            "CallSid": call_sid,
            "CallStatus": "in-progress",
            "DialCallStatus": status,
            "DialCallSid": "CA" + secrets.token_hex(16),
            "DialCallDuration": "0",
        }
        headers = {"X-Twilio-Signature": sign_request(self._auth_token, url, form)}
        answer = self._dial_answer(call_sid)
        try:
            async with aiohttp.ClientSession() as http:
                async with http.post(url, data=form, headers=headers) as response:
                    text = await response.text()
                    if response.status != 200:
                        raise ConnectionError(f"dial action answered {response.status}: {text}")
        except (aiohttp.ClientError, ConnectionError) as exc:
            if not answer.done():
                answer.set_exception(exc)
            return
        if not answer.done():
            answer.set_result(text)

    async def _list_actions(self, request: web.Request) -> web.Response:
        return web.json_response(self.actions(request.query.get("CallSid")))


def _dial_action(twiml: str) -> str | None:
    """The `action` URL of a TwiML document's `<Dial>`, if it has one."""
    if not twiml:
        return None
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        return None
    dial = root.find("Dial")
    return dial.get("action") if dial is not None else None
