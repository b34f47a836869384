"""Placing an outbound call: `calls.create` pointed at our own webhooks, with Twilio's
answering-machine detection running alongside (AsyncAmd) so a person is not kept waiting.

The request is stored before Twilio hears of it, and its id rides on the voice webhook's
URL (signed, like every webhook), so the webhook knows the call's dialplan and variables
whenever it arrives.
"""

from __future__ import annotations

import logging
import secrets
from typing import Literal

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bridge.config import Settings
from bridge.dialplan.loader import DialplanSet
from bridge.dialplan.models import E164, Dialplan
from bridge.dialplan.outbound import outbound_dialplan
from bridge.records import CallRecord, OutboundRequest
from bridge.store.base import CallStore

log = logging.getLogger(__name__)

VOICE_PATH = "/twilio/voice"
STATUS_PATH = "/twilio/status"
AMD_PATH = "/twilio/amd"
OUTBOUND_QUERY = "outbound"  # the voice webhook's query parameter naming the request
OUTBOUND_PARAMETER = "outbound"  # the same, carried to the media stream's `start`

# Twilio's CallStatus on a final status callback -> the outcome of an outbound call.
FINAL_OUTCOMES = {
    "no-answer": "no_answer",
    "busy": "busy",
    "failed": "failed",
    "canceled": "canceled",
}

Verdict = Literal["person", "machine", "fax", "wait"]


async def fetch_status(client: Client, call_sid: str) -> str | None:
    """Twilio's CallStatus for a call we placed, asked over REST; None when it cannot say."""
    try:
        call = await client.calls(call_sid).fetch_async()
    except TwilioRestException as exc:
        log.warning("status of call %s not known: HTTP %s, %s", call_sid, exc.status, exc.msg)
        return None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        log.warning("status of call %s not known: %s", call_sid, exc)
        return None
    return str(call.status)


def verdict(answered_by: str) -> Verdict:
    """What the bridge does with an AnsweredBy: `unknown` counts as a person; `machine_start`
    (only sent without DetectMessageEnd) waits for the greeting's end."""
    if answered_by.startswith("machine_end"):
        return "machine"
    if answered_by == "fax":
        return "fax"
    if answered_by == "machine_start":
        return "wait"
    return "person"


class OutboundError(ValueError):
    """The call cannot be placed; the message says why (shown to the user as is)."""


def check_request(
    dialplans: DialplanSet, dialplan_name: str, to: str, variables: dict[str, str]
) -> Dialplan:
    """The dialplan for a call to `to`, or OutboundError naming the field that is wrong."""
    if not E164.match(to):
        raise OutboundError(f"to: {to!r} is not an E.164 number like +15551234567")
    dialplan = dialplans.named(dialplan_name)
    if dialplan is None:
        raise OutboundError(f"dialplan: no dialplan named {dialplan_name!r}")
    if dialplan.outbound is None:
        raise OutboundError(f"dialplan: {dialplan_name!r} has no outbound: block")
    try:
        outbound_dialplan(dialplan, variables)
    except ValueError as exc:
        raise OutboundError(f"variables: {exc}") from None
    return dialplan


async def place_call(
    client: Client,
    settings: Settings,
    store: CallStore,
    dialplan: Dialplan,
    to: str,
    variables: dict[str, str],
) -> CallRecord:
    """Ask Twilio to call `to` for `dialplan` (checked by `check_request`); the call's record.

    Raises OutboundError when Twilio refuses or cannot be reached.
    """
    assert dialplan.outbound is not None
    if not settings.public_base_url:
        raise OutboundError("PUBLIC_BASE_URL is not set: Twilio could not reach our webhooks")
    from_number = dialplan.outbound.from_number or dialplan.numbers[0]
    request = OutboundRequest(
        request_id=secrets.token_urlsafe(12),
        dialplan=dialplan.name,
        to_number=to,
        from_number=from_number,
        variables=variables,
    )
    await store.add_outbound(request)
    base = settings.public_base_url
    try:
        call = await client.calls.create_async(
            to=to,
            from_=from_number,
            url=f"{base}{VOICE_PATH}?{OUTBOUND_QUERY}={request.request_id}",
            method="POST",
            status_callback=base + STATUS_PATH,
            status_callback_event=["initiated", "ringing", "answered", "completed"],
            status_callback_method="POST",
            machine_detection="DetectMessageEnd",
            machine_detection_timeout=dialplan.outbound.machine_detection_timeout_s,
            async_amd="true",
            async_amd_status_callback=base + AMD_PATH,
            async_amd_status_callback_method="POST",
            timeout=dialplan.outbound.ring_timeout_s,
        )
    except TwilioRestException as exc:
        raise OutboundError(f"Twilio refused the call: HTTP {exc.status}, {exc.msg}") from None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise OutboundError(f"Twilio unreachable: {type(exc).__name__}: {exc}") from None
    call_sid = str(call.sid)
    await store.set_outbound_call(request.request_id, call_sid)
    record = CallRecord(
        call_sid=call_sid,
        from_number=from_number,
        to_number=to,
        dialplan=dialplan.name,
        direction="outbound",
    )
    await store.open_call(record)
    log.info("outbound call %s placed for dialplan %s", call_sid, dialplan.name)
    return record
