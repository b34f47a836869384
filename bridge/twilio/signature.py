"""Proving a request came from Twilio: webhook and WebSocket signatures.

Twilio signs the exact URL it called, so the URL is rebuilt from PUBLIC_BASE_URL (behind a proxy
aiohttp only sees http://127.0.0.1) plus the raw path and query string as received: re-encoding
them (as `request.rel_url` does, e.g. %7E -> ~) would break the signature.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
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
