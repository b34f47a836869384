"""Per-call media tokens: the signed webhook's word on who is calling, carried to the stream.

The voice webhook is signed by Twilio; the media socket's signature covers only its URL, the
same for every call, and `start.customParameters` are whatever the socket sends. So the
webhook issues a token that binds what it was told (CallSid, From, To) and the dialplan it
chose, with an expiry, under an HMAC; the stream's `start` must carry it, and the call's
identity comes from the token, never from the stream's own parameters.

A token is spent in the shared call store when the stream starts (`spend`): only an active
call whose stream has not started yet may start one, so a token works once, on any instance,
and never for a call that has ended.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from bridge.config import Settings

# Spends the token of `call_sid` for stream `stream_sid`: False if the call ended or its
# stream already started.
Spend = Callable[[str, str], Awaitable[bool]]


@dataclass(frozen=True)
class CallIdentity:
    """Who called whom, and which dialplan answered: as the signed webhook said."""

    call_sid: str
    caller: str
    called: str
    dialplan: str
    # A call the bridge placed: its stored request (bridge/twilio/outbound.py), else "".
    outbound: str = ""


class TokenError(Exception):
    """A media token was refused."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CallTokens:
    """Token: `b64(JSON of the identity and expiry).b64(HMAC-SHA256(secret, that JSON))`."""

    def __init__(
        self,
        secret: bytes,
        spend: Spend,
        ttl_s: float = 120.0,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._spend = spend
        self._ttl_s = ttl_s
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, spend: Spend, ttl_s: float = 120.0) -> CallTokens:
        """Secret derived from TWILIO_AUTH_TOKEN (same in every process), else random."""
        token = settings.twilio_auth_token.get_secret_value()
        if token:
            secret = hmac.new(token.encode(), b"bridge media token v2", hashlib.sha256).digest()
        else:
            secret = secrets.token_bytes(32)
        return cls(secret, spend, ttl_s)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def issue(self, identity: CallIdentity) -> str:
        claims = {**asdict(identity), "expires": int(self._clock() + self._ttl_s)}
        payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def verify(self, token: str, call_sid: str) -> CallIdentity:
        """The identity the token binds, if it is ours, unexpired and for `call_sid`."""
        try:
            payload_part, mac_part = token.split(".")
            payload, mac = _unb64(payload_part), _unb64(mac_part)
        except (ValueError, binascii.Error):
            raise TokenError("malformed token") from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise TokenError("bad signature")
        try:
            claims = json.loads(payload)
            expires = int(claims.pop("expires"))
            identity = CallIdentity(**claims)
        except (ValueError, TypeError, KeyError, AttributeError):
            raise TokenError("malformed token") from None
        if not hmac.compare_digest(identity.call_sid.encode(), call_sid.encode()):
            raise TokenError("token belongs to another call")
        if expires < self._clock():
            raise TokenError("token expired")
        return identity

    async def redeem(self, token: str, call_sid: str, stream_sid: str) -> CallIdentity:
        """Verify the token, then spend it in the shared store; raises TokenError otherwise."""
        identity = self.verify(token, call_sid)
        if not await self._spend(call_sid, stream_sid):
            raise TokenError("the call has ended or its stream already started")
        return identity
