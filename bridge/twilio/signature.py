"""Proving a request came from Twilio: webhook and WebSocket signatures, per-call media tokens.

Twilio signs the exact URL it called, so the URL is rebuilt from PUBLIC_BASE_URL (behind a proxy
aiohttp only sees http://127.0.0.1) plus the raw path and query string as received: re-encoding
them (as `request.rel_url` does, e.g. %7E -> ~) would break the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web
from twilio.request_validator import RequestValidator

from bridge.config import Settings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"


def public_url(settings: Settings, request: web.BaseRequest) -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + path and query string exactly as received."""
    base = settings.public_base_url or f"{request.scheme}://{request.host}"
    return base + request.raw_path


def _validator(settings: Settings) -> RequestValidator | None:
    token = settings.twilio_auth_token.get_secret_value()
    return RequestValidator(token) if token else None


def _skipped(settings: Settings, what: str) -> bool:
    if settings.twilio_skip_signature:
        log.warning("TWILIO_SKIP_SIGNATURE is set: accepting an unsigned %s", what)
        return True
    return False


def verify_webhook(
    settings: Settings, request: web.BaseRequest, form_or_raw_body: Mapping[str, Any] | str
) -> bool:
    """True when X-Twilio-Signature matches this webhook.

    Pass the form (`await request.post()`, repeated fields kept) for form posts, or the raw
    body text for JSON posts, whose URL carries `bodySHA256` and whose body hash is checked.
    """
    if _skipped(settings, "webhook"):
        return True
    validator = _validator(settings)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if validator is None or not signature:
        return False
    url = public_url(settings, request)
    if isinstance(form_or_raw_body, str):
        # A raw body is only signed through its hash in the URL; without it there is nothing
        # that binds the body to the signature.
        if "bodySHA256" not in parse_qs(urlsplit(url).query):
            return False
    return validator.validate(url, form_or_raw_body, signature)


def verify_websocket(settings: Settings, request: web.BaseRequest) -> bool:
    """True when the WebSocket upgrade is signed: Twilio signs the `wss://` URL, no params."""
    if _skipped(settings, "media WebSocket"):
        return True
    validator = _validator(settings)
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if validator is None or not signature:
        return False
    base = settings.public_ws_base or f"{'wss' if request.secure else 'ws'}://{request.host}"
    return validator.validate(base + request.raw_path, {}, signature)


def sign_request(auth_token: str, url: str, params: Mapping[str, Any] | str) -> str:
    """The X-Twilio-Signature Twilio would send (for the simulator).

    `params` is the form for form posts; for a JSON post pass its raw body text, and `url`
    must already carry `?bodySHA256=<hex sha256 of the body>` (Twilio then signs the URL alone).
    """
    validator = RequestValidator(auth_token)
    return validator.compute_signature(url, {} if isinstance(params, str) else params)


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
    """Single-use tokens that tie a media WebSocket to the call whose webhook issued them.

    Token: `b64(call_sid).expiry.b64(nonce).b64(HMAC-SHA256(secret, call_sid|expiry|nonce))`.
    Redeemed nonces are remembered until their expiry, so the memory is bounded by the number
    of tokens issued per `ttl_s`; `max_live` caps it against floods.
    """

    def __init__(
        self,
        secret: bytes,
        ttl_s: float = 120.0,
        *,
        max_live: int = 65_536,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._ttl_s = ttl_s
        self._max_live = max_live
        self._clock = clock
        self._used: set[bytes] = set()
        self._expiries: list[tuple[int, bytes]] = []

    @classmethod
    def from_settings(cls, settings: Settings, ttl_s: float = 120.0) -> CallTokens:
        """Secret derived from TWILIO_AUTH_TOKEN (same in every process), else random."""
        token = settings.twilio_auth_token.get_secret_value()
        if token:
            secret = hmac.new(token.encode(), b"bridge media token v1", hashlib.sha256).digest()
        else:
            secret = secrets.token_bytes(32)
        return cls(secret, ttl_s)

    def _mac(self, call_sid: str, expiry: int, nonce: bytes) -> bytes:
        message = call_sid.encode() + b"|" + str(expiry).encode() + b"|" + nonce
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def issue(self, call_sid: str) -> str:
        expiry = int(self._clock() + self._ttl_s)
        nonce = secrets.token_bytes(16)
        mac = self._mac(call_sid, expiry, nonce)
        return f"{_b64(call_sid.encode())}.{expiry}.{_b64(nonce)}.{_b64(mac)}"

    def redeem(self, token: str, call_sid: str) -> None:
        """Accept the token once for `call_sid`; raises TokenError(reason) otherwise."""
        try:
            sid_part, expiry_part, nonce_part, mac_part = token.split(".")
            token_sid = _unb64(sid_part).decode()
            expiry = int(expiry_part)
            nonce = _unb64(nonce_part)
            mac = _unb64(mac_part)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise TokenError("malformed token") from None
        if not hmac.compare_digest(mac, self._mac(token_sid, expiry, nonce)):
            raise TokenError("bad signature")
        if not hmac.compare_digest(token_sid.encode(), call_sid.encode()):
            raise TokenError("token belongs to another call")
        now = self._clock()
        if expiry < now:
            raise TokenError("token expired")
        self._prune(now)
        if nonce in self._used:
            raise TokenError("token already used")
        if len(self._used) >= self._max_live:
            raise TokenError("too many live tokens")
        self._used.add(nonce)
        heapq.heappush(self._expiries, (expiry, nonce))

    def _prune(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] < now:
            _, nonce = heapq.heappop(self._expiries)
            self._used.discard(nonce)
