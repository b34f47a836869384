"""Live call control over Twilio's REST API, with the official client used asynchronously."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bridge.agent.base import CallControlError
from bridge.config import Settings
from bridge.records import TwilioAction
from bridge.twilio.twiml import DialOutcome, transfer_twiml

log = logging.getLogger(__name__)


class _RedirectedAsyncHttpClient(AsyncTwilioHttpClient):
    """Sends every request to another scheme+host (the simulator's fake REST API).

    Rewriting here, after the client resolved edge and region, keeps TWILIO_EDGE/TWILIO_REGION
    from mangling a local address.
    """

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._base = urlsplit(base_url)

    async def request(self, method: str, url: str, *args: object, **kwargs: object) -> Response:
        parts = urlsplit(url)
        moved = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        return await super().request(method, moved, *args, **kwargs)  # type: ignore[arg-type]


def make_twilio_client(settings: Settings) -> Client:
    """A Twilio client for `update_async` (real API, or TWILIO_API_BASE_URL when set).

    Call it inside the running event loop (the HTTP client opens an aiohttp session) and
    `await close_twilio_client(client)` at shutdown.
    """
    if settings.twilio_api_base_url:
        http_client: AsyncTwilioHttpClient = _RedirectedAsyncHttpClient(
            settings.twilio_api_base_url
        )
    else:
        http_client = AsyncTwilioHttpClient()
    return Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        http_client=http_client,
    )


async def close_twilio_client(client: Client) -> None:
    """Close the HTTP session behind a client made by `make_twilio_client`."""
    http_client = client.http_client
    if isinstance(http_client, AsyncTwilioHttpClient):
        await http_client.close()


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, TwilioRestException):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, aiohttp.ClientError | TimeoutError | OSError)


def _wire_name(keyword: str) -> str:
    """The client's keyword as Twilio's form field: `status_callback` -> `StatusCallback`."""
    return "".join(part.capitalize() for part in keyword.rstrip("_").split("_"))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TwilioRestException):
        return f"HTTP {exc.status} (Twilio code {exc.code}): {exc.msg}"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"


class WarmTransferStarter(Protocol):
    async def begin(
        self,
        control: TwilioCallControl,
        *,
        department: str,
        target: str,
        caller_id: str | None,
        announcement: str,
        ring_timeout_s: int,
        reason: str,
    ) -> None:
        """Ring the human and put the caller on hold; raises CallControlError when the
        caller was not moved (they stay with the agent)."""


class TwilioCallControl:
    """`bridge.agent.base.CallControl` for one live call, through `calls(sid).update`.

    Server errors, 429 and network failures are retried with exponential backoff; every
    attempt is reported to `on_action` so the call record shows what reached Twilio.
    """

    def __init__(
        self,
        client: Client,
        call_sid: str,
        on_action: Callable[[TwilioAction], None] | None = None,
        *,
        dial_action_url: str,
        warm: WarmTransferStarter | None = None,
        attempts: int = 3,
        backoff_s: float = 0.25,
        attempt_timeout_s: float = 5.0,
    ) -> None:
        self._client = client
        self.call_sid = call_sid
        self._on_action = on_action
        self._dial_action_url = dial_action_url
        self._warm = warm
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._attempt_timeout_s = attempt_timeout_s
        self._path = f"/2010-04-01/Accounts/{client.account_sid}/Calls/{call_sid}.json"

    async def transfer(
        self,
        target: str,
        caller_id: str | None,
        announcement: str,
        *,
        department: str = "",
        ring_timeout_s: int = 20,
        reason: str = "",
        warm: bool = False,
    ) -> None:
        """Replace the call's TwiML with announce + `<Dial>`; Twilio then ends the stream.

        The `<Dial>`'s action names the department, so the action webhook knows what was
        tried; a SIP target gets the CallSid and the reason as X- headers. `warm`: the caller
        holds in a conference while the human is briefed (see `twilio/warm.py`)."""
        if warm and self._warm is not None:
            await self._warm.begin(
                self,
                department=department,
                target=target,
                caller_id=caller_id,
                announcement=announcement,
                ring_timeout_s=ring_timeout_s,
                reason=reason,
            )
            return
        action = f"{self._dial_action_url}?{urlencode({'department': department})}"
        outcome = DialOutcome(
            action_url=action,
            timeout_s=ring_timeout_s,
            sip_headers={"X-CallSid": self.call_sid, "X-Reason": reason or "transfer"},
        )
        twiml = transfer_twiml(target, caller_id, announcement, outcome)
        await self._update({"Twiml": twiml}, twiml=twiml)

    async def hang_up(self) -> None:
        await self._update({"Status": "completed"}, status="completed")

    async def update_twiml(self, twiml: str) -> None:
        """The call goes on with `twiml` (its media stream, if any, ends)."""
        await self._update({"Twiml": twiml}, twiml=twiml)

    async def create_leg(self, **create: Any) -> str:
        """Place another call for this one (a warm transfer's human leg): one try, never
        retried (a retry could ring the human twice); its CallSid. Raises CallControlError."""
        path = f"/2010-04-01/Accounts/{self._client.account_sid}/Calls.json"
        params = {_wire_name(key): str(value) for key, value in create.items()}
        try:
            async with asyncio.timeout(self._attempt_timeout_s):
                call = await self._client.calls.create_async(**create)
        except (TwilioRestException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            self._report(params, ok=False, error=_describe(exc), path=path)
            raise CallControlError(f"placing a call failed: {_describe(exc)}") from None
        self._report(params, ok=True, path=path)
        return str(call.sid)

    async def end_leg(self, call_sid: str) -> None:
        """Stop a leg this call placed, ringing or answered (best effort: logged on failure)."""
        path = f"/2010-04-01/Accounts/{self._client.account_sid}/Calls/{call_sid}.json"
        for status in ("canceled", "completed"):  # canceled ends a ringing call only
            try:
                async with asyncio.timeout(self._attempt_timeout_s):
                    await self._client.calls(call_sid).update_async(status=status)
            except (TwilioRestException, aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("ending leg %s as %s failed: %s", call_sid, status, _describe(exc))
                self._report({"Status": status}, ok=False, error=_describe(exc), path=path)
            else:
                self._report({"Status": status}, ok=True, path=path)
                return

    async def _update(self, wire_params: dict[str, str], **update: str) -> None:
        last_error = ""
        for attempt in range(self._attempts):
            if attempt:
                await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))
            try:
                async with asyncio.timeout(self._attempt_timeout_s):
                    await self._client.calls(self.call_sid).update_async(**update)
            except (TwilioRestException, aiohttp.ClientError, TimeoutError, OSError) as exc:
                last_error = _describe(exc)
                self._report(wire_params, ok=False, error=last_error)
                if not _retryable(exc):
                    break
                log.warning(
                    "call %s update attempt %d failed: %s", self.call_sid, attempt + 1, last_error
                )
            else:
                self._report(wire_params, ok=True)
                return
        raise CallControlError(f"call {self.call_sid} update failed: {last_error}")

    def _report(self, params: dict[str, str], *, ok: bool, error: str = "", path: str = "") -> None:
        if self._on_action is not None:
            action = TwilioAction(
                method="POST", path=path or self._path, params=params, ok=ok, error=error
            )
            self._on_action(action)
