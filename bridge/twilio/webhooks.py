"""Twilio's HTTP webhooks: the voice webhook that answers a call, and call status callbacks."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.addresses import e164_of
from bridge.config import Settings
from bridge.dialplan.loader import DialplanSet
from bridge.dialplan.models import Dialplan
from bridge.records import CallLeg, CallRecord, CallStatus
from bridge.store.base import CallStore, UnknownCallError
from bridge.twilio.outbound import AMD_PATH, FINAL_OUTCOMES, OUTBOUND_QUERY, STATUS_PATH
from bridge.twilio.signature import verify_webhook
from bridge.twilio.stream_twiml import MEDIA_PATH, caller_stream_twiml, reopened_identity
from bridge.twilio.tokens import CallIdentity, CallTokens
from bridge.twilio.twiml import (
    hangup_twiml,
    reject_twiml,
    say_and_dial_twiml,
)

log = logging.getLogger(__name__)

Fields = TypeVar("Fields", bound=BaseModel)

__all__ = ["AMD_PATH", "MEDIA_PATH", "STATUS_PATH", "TwilioWebhooks"]

# Twilio's final CallStatus values and what they mean for our record.
FINAL_STATUSES: dict[str, CallStatus] = {
    "completed": "completed",
    "busy": "failed",
    "failed": "failed",
    "no-answer": "failed",
    "canceled": "failed",
}


class VoiceRequest(BaseModel):
    """The voice webhook's form fields we use (Twilio sends more; all are signed)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    call_sid: str = Field(alias="CallSid", min_length=2)
    from_number: str = Field(default="", alias="From")
    to_number: str = Field(default="", alias="To")


class DialActionRequest(BaseModel):
    """What Twilio posts to a `<Dial action>` once the dialled leg is over."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    call_sid: str = Field(alias="CallSid", min_length=2)
    call_status: str = Field(default="in-progress", alias="CallStatus")  # the caller's leg
    dial_call_status: str = Field(alias="DialCallStatus", min_length=1)
    dial_call_sid: str = Field(default="", alias="DialCallSid")
    dial_call_duration: int = Field(default=0, alias="DialCallDuration", ge=0)


# A <Dial> that ended like this was a conversation with the human: the call is over.
DIAL_CONNECTED = frozenset({"completed", "answered"})


class AmdRequest(BaseModel):
    """Twilio's asynchronous answering-machine verdict on an outbound call."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    call_sid: str = Field(alias="CallSid", min_length=2)
    answered_by: str = Field(alias="AnsweredBy", min_length=1)


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    call_sid: str = Field(alias="CallSid", min_length=2)
    call_status: str = Field(alias="CallStatus")


def twiml_response(twiml: str) -> web.Response:
    return web.Response(text=twiml, content_type="text/xml")


def overflow_twiml(dialplan: Dialplan, called: str) -> str:
    """The dialplan's answer when no call can be taken: `<Reject>`, or say and dial/hang up."""
    overflow = dialplan.overflow
    if overflow.reject:
        return reject_twiml()
    target = dialplan.departments[overflow.department].target if overflow.department else None
    caller_id = dialplan.caller_id or e164_of(called)
    return say_and_dial_twiml(overflow.message, target, caller_id)


async def signed_fields(settings: Settings, request: web.Request, what: str) -> dict[str, str]:
    """A webhook's fields once its signature holds: a form post, or a JSON object body
    (signed through `bodySHA256` in its URL). 403 when unsigned, 400 when not an object,
    415 for any other kind of body."""
    if request.content_type == "application/json":
        raw = await request.text()
        if not verify_webhook(settings, request, raw):
            log.warning("%s refused: bad or missing X-Twilio-Signature (JSON body)", what)
            raise web.HTTPForbidden(text="invalid Twilio signature")
        try:
            body = json.loads(raw)
        except ValueError:
            raise web.HTTPBadRequest(text="body is not JSON") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="body is not a JSON object")
        return {str(key): str(value) for key, value in body.items()}
    if request.content_type != "application/x-www-form-urlencoded":
        # Twilio posts forms or JSON; a multipart body would reach the signature check with
        # file parts in it.
        raise web.HTTPUnsupportedMediaType(text="a form or JSON body is expected")
    form = await request.post()
    if not verify_webhook(settings, request, form):
        log.warning("%s refused: bad or missing X-Twilio-Signature", what)
        raise web.HTTPForbidden(text="invalid Twilio signature")
    return {key: str(value) for key, value in form.items()}


class TwilioWebhooks:
    def __init__(
        self,
        settings: Settings,
        dialplans: DialplanSet,
        tokens: CallTokens,
        store: CallStore,
        accepting_calls: Callable[[], bool],
        on_answered_by: Callable[[str, str], Awaitable[None]],
        call_over: Callable[[str], None],
    ) -> None:
        self._settings = settings
        self._dialplans = dialplans
        self._tokens = tokens
        self._store = store
        self._accepting_calls = accepting_calls
        self._on_answered_by = on_answered_by
        self._call_over = call_over  # after-call webhooks of a call that ended in a transfer

    async def voice(self, request: web.Request) -> web.Response:
        """`POST /twilio/voice`: answer with `<Connect><Stream>` (or the overflow TwiML)."""
        call = _parsed(VoiceRequest, await signed_fields(self._settings, request, "voice webhook"))
        outbound_id = request.query.get(OUTBOUND_QUERY, "")
        if outbound_id:
            return await self._outbound_answered(call, outbound_id)
        dialplan = self._dialplans.for_number(call.to_number)
        if not self._accepting_calls():
            log.warning("call %s answered with overflow: at capacity or draining", call.call_sid)
            return twiml_response(overflow_twiml(dialplan, call.to_number))
        await self._refuse_replay(call)
        await self._store.open_call(
            CallRecord(
                call_sid=call.call_sid,
                from_number=call.from_number,
                to_number=call.to_number,
                dialplan=dialplan.name,
            )
        )
        # The stream learns who is calling from this token only: the webhook is what is signed.
        identity = CallIdentity(call.call_sid, call.from_number, call.to_number, dialplan.name)
        greeting = dialplan.greeting if dialplan.greet_in_twiml else None
        log.info("call %s answered by dialplan %s", call.call_sid, dialplan.name)
        return twiml_response(self._stream_twiml(identity, greeting))

    async def dial_action(self, request: web.Request) -> web.Response:
        """`POST /twilio/dial-action?department=`: a transfer's `<Dial>` ended. Answered: the
        call is over. Not answered, busy or failed: the caller comes back to the agent on a
        new media stream (a fresh token; the session restores the conversation)."""
        fields = await signed_fields(self._settings, request, "dial action")
        dial = _parsed(DialActionRequest, fields)
        department = request.query.get("department", "")
        leg = CallLeg(
            kind="dial",
            department=department,
            status=dial.dial_call_status,
            sid=dial.dial_call_sid,
            duration_s=dial.dial_call_duration,
        )
        try:
            await self._store.add_leg(dial.call_sid, leg)
        except UnknownCallError:
            raise web.HTTPNotFound(text="no such call") from None
        log.info("transfer to %s ended: %s", department or "?", dial.dial_call_status)
        if dial.dial_call_status in DIAL_CONNECTED or dial.call_status != "in-progress":
            self._call_over(dial.call_sid)
            return twiml_response(hangup_twiml())
        identity = await reopened_identity(self._store, self._dialplans, dial.call_sid)
        if identity is None:
            # Not a call we transferred (or this outcome came twice): nothing to resume.
            raise web.HTTPConflict(text="this call is not waiting on a transfer")
        return twiml_response(self._stream_twiml(identity, None))

    async def _refuse_replay(self, call: VoiceRequest) -> None:
        recorded = await self._store.trust.call_status(call.call_sid)
        if recorded not in (None, "active"):
            # Twilio asks once per call; a signed webhook for an ended call is a replay.
            log.warning("voice webhook refused: the call has ended (%s)", recorded)
            raise web.HTTPConflict(text="this call has ended")

    async def _outbound_answered(self, call: VoiceRequest, request_id: str) -> web.Response:
        """A call we placed was answered: connect it, its stored request naming the dialplan."""
        placed = await self._store.get_outbound(request_id)
        dialplan = self._dialplans.named(placed.dialplan) if placed is not None else None
        if placed is None or dialplan is None or placed.call_sid not in ("", call.call_sid):
            log.warning("outbound call %s names an unknown request: hanging up", call.call_sid)
            return twiml_response(hangup_twiml())
        if not self._accepting_calls():
            log.warning("outbound call %s hung up: at capacity or draining", call.call_sid)
            return twiml_response(hangup_twiml())
        await self._refuse_replay(call)
        await self._store.open_call(
            CallRecord(
                call_sid=call.call_sid,
                from_number=placed.from_number,
                to_number=placed.to_number,
                dialplan=dialplan.name,
                direction="outbound",
            )
        )
        identity = CallIdentity(
            call.call_sid, placed.from_number, placed.to_number, dialplan.name, request_id
        )
        # The opening line is the session's to speak: a voicemail must not get it by <Say>.
        log.info("outbound call %s answered, dialplan %s", call.call_sid, dialplan.name)
        return twiml_response(self._stream_twiml(identity, None))

    def _stream_twiml(self, identity: CallIdentity, greeting: str | None) -> str:
        return caller_stream_twiml(self._settings, self._tokens, identity, greeting)

    async def status(self, request: web.Request) -> web.Response:
        """`POST /twilio/status`: a call status callback; a final status closes the record."""
        fields = await signed_fields(self._settings, request, "status callback")
        update = _parsed(StatusRequest, fields)
        await record_final_status(self._store, update.call_sid, update.call_status)
        return web.Response(status=204)

    async def amd(self, request: web.Request) -> web.Response:
        """`POST /twilio/amd`: the async answering-machine verdict, acted on mid-call."""
        fields = await signed_fields(self._settings, request, "AMD callback")
        verdict = _parsed(AmdRequest, fields)
        await self._on_answered_by(verdict.call_sid, verdict.answered_by)
        return web.Response(status=204)


async def record_final_status(store: CallStore, call_sid: str, call_status: str) -> bool:
    """A final CallStatus (from its callback, or asked of Twilio when that never came) closes
    the record; an outbound call with no outcome yet gets one from it: answered and streamed
    with no verdict (AMD timed out, `unknown`) counts as a person. False: not a final status."""
    final = FINAL_STATUSES.get(call_status)
    if final is None:
        return False
    await store.close_call(call_sid, final, f"twilio: {call_status}")
    outcome = FINAL_OUTCOMES.get(call_status)
    if outcome is None:
        record = await store.get(call_sid)
        if record is not None and record.direction == "outbound" and not record.outcome:
            outcome = "human" if record.stream_sid else "no_answer"
    if outcome is not None:
        await store.set_outcome(call_sid, outcome)
    await store.set_twilio_status(call_sid, call_status)
    return True


def _parsed(model: type[Fields], fields: dict[str, str]) -> Fields:
    """Signed but missing what we need (a CallSid...): a 400, not a server error."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise web.HTTPBadRequest(text=f"missing or invalid fields: {exc.error_count()}") from None
