"""Turn any fault of the OpenAI or Anthropic client into one classified `LlmError`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import anthropic
import httpx2
import openai

from bridge.agent.llm.base import ErrorKind, LlmError

_TIMEOUTS = (
    openai.APITimeoutError,
    anthropic.APITimeoutError,
    httpx2.TimeoutException,
    TimeoutError,
)
_NETWORK = (openai.APIConnectionError, anthropic.APIConnectionError, httpx2.TransportError)
_STATUS = (openai.APIStatusError, anthropic.APIStatusError)


def classify(exc: BaseException) -> LlmError:
    """The `LlmError` for `exc`; an `LlmError` passes through unchanged."""
    if isinstance(exc, LlmError):
        return exc
    if isinstance(exc, _TIMEOUTS):
        return LlmError("timeout", str(exc) or type(exc).__name__)
    if isinstance(exc, _NETWORK):
        return LlmError("network", str(exc) or type(exc).__name__)
    if isinstance(exc, _STATUS):
        headers = exc.response.headers
        return LlmError(
            _kind_of_status(exc.status_code),
            f"HTTP {exc.status_code}: {exc.message}",
            retry_after_s=retry_after(headers.get("retry-after-ms"), headers.get("retry-after")),
        )
    if isinstance(exc, openai.APIError | anthropic.APIError):
        # An error event inside an open stream (no HTTP status): the server gave up.
        return LlmError("server", str(exc))
    if isinstance(exc, json.JSONDecodeError | ValueError):
        return LlmError("server", f"malformed stream: {exc}")
    # Anything else is our bug or an SDK surprise: trying again would not help.
    return LlmError("bad_request", f"{type(exc).__name__}: {exc}")


def _kind_of_status(status: int) -> ErrorKind:
    if status in (401, 403):
        return "auth"
    if status == 429:
        return "rate_limit"
    if status == 408:
        return "timeout"
    if status >= 500:
        return "server"
    return "bad_request"


def retry_after(milliseconds: str | None, value: str | None) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
