"""The one way this process makes an OpenAI client: for its LLM, Realtime and speech requests.

The SDK never retries by itself: its backoff (half a second, then more) would be dead air on
a live call. An LLM turn retries on its own, within the turn's budget; a speech request that
fails fails at once, and the call handles it like any speech failure.
"""

from __future__ import annotations

from openai import AsyncOpenAI

from bridge.config import Settings


def openai_client(settings: Settings, base_url: str = "") -> AsyncOpenAI:
    """A client for `base_url`, else OPENAI_BASE_URL, else OpenAI's own API; close it with
    `close()`."""
    return AsyncOpenAI(
        # OpenAI-compatible local servers take any key; the SDK insists on one.
        api_key=settings.openai_api_key.get_secret_value() or "unused",
        base_url=base_url or settings.openai_base_url or None,
        organization=settings.openai_org_id or None,
        max_retries=0,
    )
