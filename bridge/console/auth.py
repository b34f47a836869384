"""Console login: credentials from the environment, a signed session cookie, CSRF tokens.

The cookie holds no secret: the user name, an expiry and a random nonce, signed with HMAC.
Its key is derived from CONSOLE_SECRET *and* the configured credentials, so changing the
password or token ends every session. Forms carry a CSRF token derived from the session's
nonce; every POST is also refused when the browser says it comes from another site.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from bridge.config import Settings

COOKIE = "bridge_console"
COOKIE_PATH = "/console"
SESSION_S = 12 * 3600
FAILED_LOGIN_DELAY_S = 1.0  # failures wait in line: guessing runs at one try a second


@dataclass(frozen=True)
class ConsoleSession:
    user: str
    nonce: str
    csrf: str


def console_enabled(settings: Settings) -> bool:
    """Never open by default: a token, or both a user and a password, must be configured."""
    return bool(settings.console_token.get_secret_value()) or bool(
        settings.console_user and settings.console_password.get_secret_value()
    )


class ConsoleAuth:
    def __init__(self, settings: Settings) -> None:
        self._token = settings.console_token.get_secret_value()
        self._user = settings.console_user
        self._password = settings.console_password.get_secret_value()
        secret = settings.console_secret.get_secret_value().encode() or secrets.token_bytes(32)
        credentials = "\0".join((self._token, self._user, self._password)).encode()
        self._key = hmac.new(secret, credentials, hashlib.sha256).digest()
        self._failures = asyncio.Lock()

    @property
    def accepts_token(self) -> bool:
        return bool(self._token)

    @property
    def accepts_password(self) -> bool:
        return bool(self._user and self._password)

    async def check(self, user: str, password: str, token: str) -> str | None:
        """The signed-in user's name, or None (after a delay) for wrong credentials."""
        if self.accepts_token and token and _same(token, self._token):
            return "admin"
        if self.accepts_password and user and _same(user, self._user):
            if _same(password, self._password):
                return user
        async with self._failures:
            await asyncio.sleep(FAILED_LOGIN_DELAY_S)
        return None

    def session(self, request: web.Request) -> ConsoleSession | None:
        """The valid session the request's cookie carries, if any."""
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
        return ConsoleSession(user=user, nonce=nonce, csrf=self._sign(f"csrf.{nonce}"))

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
            secure=request.secure,
        )

    @staticmethod
    def end_session(response: web.StreamResponse) -> None:
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
