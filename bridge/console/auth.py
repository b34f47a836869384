"""Console login: credentials from the environment, a signed session cookie, CSRF tokens.

The cookie holds no secret: the user name, an expiry and a random nonce, signed with HMAC.
Its key is derived from CONSOLE_SECRET *and* the configured credentials, so changing the
password or token ends every session. Logging out revokes the session's nonce in the shared
store, so the old cookie is refused on every instance until it would have expired. Forms
carry a CSRF token derived from the session's nonce; every POST is also refused when the
browser says it comes from another site. Login attempts go through `LoginThrottle` first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from aiohttp import web

from bridge.config import Settings
from bridge.store.base import TrustRecords

COOKIE = "bridge_console"
COOKIE_PATH = "/console"
SESSION_S = 12 * 3600


@dataclass(frozen=True)
class ConsoleSession:
    user: str
    nonce: str
    csrf: str
    expires_at: datetime


def console_enabled(settings: Settings) -> bool:
    """Never open by default: a token, or both a user and a password, must be configured."""
    return bool(settings.console_token.get_secret_value()) or bool(
        settings.console_user and settings.console_password.get_secret_value()
    )


class ConsoleAuth:
    def __init__(self, settings: Settings, trust: TrustRecords) -> None:
        self._trust = trust
        # Behind a TLS-terminating proxy the request itself is http: the public URL says
        # what the browser used (and a trusted proxy's X-Forwarded-Proto, per request).
        self._public_https = settings.public_base_url.startswith("https://")
        self._token = settings.console_token.get_secret_value()
        self._user = settings.console_user
        self._password = settings.console_password.get_secret_value()
        secret = settings.console_secret.get_secret_value().encode() or secrets.token_bytes(32)
        credentials = "\0".join((self._token, self._user, self._password)).encode()
        self._key = hmac.new(secret, credentials, hashlib.sha256).digest()

    @property
    def accepts_token(self) -> bool:
        return bool(self._token)

    @property
    def accepts_password(self) -> bool:
        return bool(self._user and self._password)

    def check(self, user: str, password: str, token: str) -> str | None:
        """The signed-in user's name, or None for wrong credentials (throttled by the caller)."""
        if self.accepts_token and token and _same(token, self._token):
            return "admin"
        if self.accepts_password and user and _same(user, self._user):
            if _same(password, self._password):
                return user
        return None

    async def session(self, request: web.Request) -> ConsoleSession | None:
        """The valid, unrevoked session the request's cookie carries, if any."""
        value = request.cookies.get(COOKIE, "")
        parts = value.split(".")
        if len(parts) != 4:
            return None
        user_b64, expiry, nonce, signature = parts
        if not _same(signature, self._sign(f"{user_b64}.{expiry}.{nonce}")):
            return None
        if not expiry.isdigit() or int(expiry) < time.time():
            return None
        try:
            user = base64.urlsafe_b64decode(user_b64.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        if await self._trust.session_revoked(nonce):
            return None
        return ConsoleSession(
            user=user,
            nonce=nonce,
            csrf=self._sign(f"csrf.{nonce}"),
            expires_at=datetime.fromtimestamp(int(expiry), UTC),
        )

    def start_session(self, request: web.Request, response: web.StreamResponse, user: str) -> None:
        user_b64 = base64.urlsafe_b64encode(user.encode()).decode()
        payload = f"{user_b64}.{int(time.time()) + SESSION_S}.{secrets.token_hex(16)}"
        response.set_cookie(
            COOKIE,
            f"{payload}.{self._sign(payload)}",
            max_age=SESSION_S,
            path=COOKIE_PATH,
            httponly=True,
            samesite="Strict",
            secure=self._public_https or request.secure,
        )

    async def end_session(self, session: ConsoleSession, response: web.StreamResponse) -> None:
        """Revoked in the store (every instance refuses it), then deleted in the browser."""
        await self._trust.revoke_session(session.nonce, session.expires_at)
        response.del_cookie(COOKIE, path=COOKIE_PATH)

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


def same_site(request: web.Request) -> bool:
    """False when the browser says this request was sent from another site."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def csrf_ok(session: ConsoleSession, given: str) -> bool:
    return _same(given, session.csrf)


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
