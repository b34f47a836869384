"""Twilio's HTTP webhooks: the voice webhook that answers a call, and call status callbacks."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from bridge.config import Settings
from bridge.dialplan.loader import DialplanSet
from bridge.records import CallRecord, CallStatus
from bridge.store.base import CallStore
from bridge.twilio.media import TOKEN_PARAMETER
from bridge.twilio.signature import CallTokens, verify_webhook
from bridge.twilio.twiml import connect_stream_twiml, say_and_dial_twiml

log = logging.getLogger(__name__)

MEDIA_PATH = "/twilio/media"
STATUS_PATH = "/twilio/status"

OVERFLOW_MESSAGE = "Sorry, all our lines are busy right now. Please call again in a few minutes."

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


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    call_sid: str = Field(alias="CallSid", min_length=2)
    call_status: str = Field(alias="CallStatus")


def twiml_response(twiml: str) -> web.Response:
    return web.Response(text=twiml, content_type="text/xml")


class TwilioWebhooks:
    def __init__(
        self,
        settings: Settings,
        dialplans: DialplanSet,
        tokens: CallTokens,
        store: CallStore,
        accepting_calls: Callable[[], bool],
    ) -> None:
        self._settings = settings
        self._dialplans = dialplans
        self._tokens = tokens
        self._store = store
        self._accepting_calls = accepting_calls

    async def voice(self, request: web.Request) -> web.Response:
        """`POST /twilio/voice`: answer with `<Connect><Stream>` (or the overflow TwiML)."""
        form = await request.post()
        if not verify_webhook(self._settings, request, form):
            log.warning("voice webhook refused: bad or missing X-Twilio-Signature")
            raise web.HTTPForbidden(text="invalid Twilio signature")
        call = VoiceRequest.model_validate(dict(form))
        dialplan = self._dialplans.for_number(call.to_number)
        if not self._accepting_calls():
            log.warning("call %s answered with overflow: at capacity", call.call_sid)
            return twiml_response(say_and_dial_twiml(OVERFLOW_MESSAGE, target=None))
        await self._store.open_call(
            CallRecord(
                call_sid=call.call_sid,
                from_number=call.from_number,
                to_number=call.to_number,
                dialplan=dialplan.name,
            )
        )
        parameters = {
            TOKEN_PARAMETER: self._tokens.issue(call.call_sid),
            "from": call.from_number,
            "to": call.to_number,
        }
        twiml = connect_stream_twiml(
            stream_url=self._settings.public_ws_base + MEDIA_PATH,
            parameters=parameters,
            greeting=dialplan.greeting if dialplan.greet_in_twiml else None,
            status_callback=None,
        )
        log.info("call %s answered by dialplan %s", call.call_sid, dialplan.name)
        return twiml_response(twiml)

    async def status(self, request: web.Request) -> web.Response:
        """`POST /twilio/status`: a call status callback; a final status closes the record."""
        form = await request.post()
        if not verify_webhook(self._settings, request, form):
            log.warning("status callback refused: bad or missing X-Twilio-Signature")
            raise web.HTTPForbidden(text="invalid Twilio signature")
        update = StatusRequest.model_validate(dict(form))
        final = FINAL_STATUSES.get(update.call_status)
        if final is not None:
            await self._store.close_call(update.call_sid, final, f"twilio: {update.call_status}")
        return web.Response(status=204)
