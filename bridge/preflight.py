"""What must be right before the server takes a call; each problem said plainly."""

from __future__ import annotations

import re
from ipaddress import ip_network
from urllib.parse import urlsplit

from bridge.config import Settings
from bridge.dialplan.loader import check_dialplans

ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
AUTH_TOKEN = re.compile(r"^[0-9a-f]{32}$")
# A secret shorter than this, or one copied from an example file, is as good as none.
MIN_SECRET_CHARS = 16
EXAMPLE_SECRETS = {"change-me", "changeme", "secret", "password", "admin", "token"}


def configuration_problems(settings: Settings) -> list[str]:
    problems: list[str] = []
    url = urlsplit(settings.public_base_url)
    if not settings.public_base_url:
        problems.append("PUBLIC_BASE_URL is not set (the https:// address Twilio reaches us at)")
    elif url.scheme not in ("https", "http") or not url.netloc or url.path not in ("", "/"):
        problems.append(
            f"PUBLIC_BASE_URL {settings.public_base_url!r} must be a scheme and host only, "
            "like https://bridge.example.com"
        )
    if not ACCOUNT_SID.match(settings.twilio_account_sid):
        problems.append("TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits")
    token = settings.twilio_auth_token.get_secret_value()
    if not AUTH_TOKEN.match(token) and not settings.twilio_skip_signature:
        problems.append("TWILIO_AUTH_TOKEN must be 32 hex digits (it signs Twilio's requests)")
    problems.extend(_weak_secrets(settings))
    for entry in filter(None, (e.strip() for e in settings.trusted_proxies.split(","))):
        try:
            ip_network(entry, strict=False)
        except ValueError:
            problems.append(f"TRUSTED_PROXIES: {entry!r} is not an address or network")
    problems.extend(str(problem) for problem in check_dialplans(settings.dialplans_dir))
    return problems


def _weak_secrets(settings: Settings) -> list[str]:
    """Secrets that are set must be real: not an example's placeholder, not a few letters."""
    problems = []
    secrets = {
        "BRIDGE_ADMIN_TOKEN": settings.admin_token,
        "CONSOLE_TOKEN": settings.console_token,
        "CONSOLE_PASSWORD": settings.console_password,
        "CONSOLE_SECRET": settings.console_secret,
    }
    for name, value in secrets.items():
        secret = value.get_secret_value()
        if not secret:
            continue
        if secret.strip().lower() in EXAMPLE_SECRETS:
            problems.append(f"{name} is still the example value {secret!r}: set a real secret")
        elif len(secret) < MIN_SECRET_CHARS:
            problems.append(f"{name} must be at least {MIN_SECRET_CHARS} characters")
    return problems
