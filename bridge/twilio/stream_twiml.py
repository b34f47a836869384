"""The TwiML that puts a caller on a media stream to the agent, with a fresh media token:
when a call is answered, and when a caller comes back from a transfer nobody took."""

from __future__ import annotations

import asyncio

from bridge.config import Settings
from bridge.dialplan.loader import DialplanSet
from bridge.store.base import CallStore
from bridge.twilio.media import TOKEN_PARAMETER
from bridge.twilio.tokens import CallIdentity, CallTokens
from bridge.twilio.twiml import connect_stream_twiml

MEDIA_PATH = "/twilio/media"

STREAM_FAILED_MESSAGE = (
    "Sorry, we are having technical trouble and can't continue this call. Please call back."
)

REOPEN_POLL_S = 0.1
# How long a call redirected off its stream may take to be closed as "transferred" by its
# session (Twilio ends the stream on the update; the close lands a moment later).
STREAM_CLOSING_S = 2.0


def caller_stream_twiml(
    settings: Settings, tokens: CallTokens, identity: CallIdentity, greeting: str | None = None
) -> str:
    parameters = {TOKEN_PARAMETER: tokens.issue(identity)}
    return connect_stream_twiml(
        stream_url=settings.public_ws_base + MEDIA_PATH,
        parameters=parameters,
        greeting=greeting,
        status_callback=None,
        if_stream_fails=STREAM_FAILED_MESSAGE,
    )


async def reopened_identity(
    store: CallStore, dialplans: DialplanSet, call_sid: str, wait_s: float = STREAM_CLOSING_S
) -> CallIdentity | None:
    """A transferred call made active again for a new stream, and who is on it; None when it
    is not waiting on a transfer. `wait_s`: how long a call whose stream is still closing
    (active still) may take to become "transferred"."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while not await store.reopen_call(call_sid):
        # "transferred" now: the session closed it since the try; try again.
        status = await store.trust.call_status(call_sid)
        if status not in ("active", "transferred") or loop.time() >= deadline:
            return None
        await asyncio.sleep(REOPEN_POLL_S)
    record = await store.get(call_sid)
    if record is None:
        return None
    dialplan = dialplans.named(record.dialplan) or dialplans.for_number(record.to_number)
    return CallIdentity(record.call_sid, record.from_number, record.to_number, dialplan.name)
