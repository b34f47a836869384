"""Warm transfers: the human is briefed and accepts before the caller is put through.

1. `begin` (the agent's transfer to a `transfer: warm` department) places the human's leg
   with `calls.create` (answering-machine detection `Enable`: Twilio asks our answer URL
   only once it knows who picked up, with `AnsweredBy`), then moves the caller, by a REST
   update, into a conference where they hear hold audio. The caller's media stream, and
   with it the agent, ends there.
2. A person answers: they hear the brief (by the LLM when configured, from the record
   otherwise) inside a one-key `<Gather>`. 1 joins them to the conference, which starts and
   the hold audio stops; the conference ends when either of them hangs up.
3. A machine, any other key, no key, a hang-up during the brief, or a leg that is not
   answered, busy or failed: the caller comes back to the agent (a REST update to a new
   media stream; the session restores the conversation and says what happened).

Every outcome is a `warm` leg on the caller's record. Each webhook may reach any instance:
what it needs is in the store (`store.warm`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from twilio.rest import Client

from bridge.agent.base import CallControlError
from bridge.call.llm_writer import LlmWriter
from bridge.call.transfer_brief import rules_brief, transfer_brief
from bridge.config import Settings
from bridge.dialplan.loader import DialplanSet
from bridge.dialplan.models import Department
from bridge.observability import metrics
from bridge.records import CallLeg, TwilioAction, Writing
from bridge.store.base import CallStore
from bridge.store.warm_transfers import WarmState, WarmTransfer
from bridge.twilio.rest import TwilioCallControl
from bridge.twilio.stream_twiml import caller_stream_twiml, reopened_identity
from bridge.twilio.tokens import CallTokens
from bridge.twilio.twiml import (
    DIAL_ACTION_PATH,
    brief_twiml,
    hangup_twiml,
    hold_twiml,
    join_twiml,
    say_and_hang_up_twiml,
)
from bridge.twilio.webhooks import signed_fields, twiml_response

log = logging.getLogger(__name__)

ANSWER_PATH = "/twilio/warm/answer"
ACCEPT_PATH = "/twilio/warm/accept"
STATUS_PATH = "/twilio/warm/status"
LEFT_PATH = "/twilio/warm/left"  # the hold conference's participant-leave callback
# Why Twilio says a participant left when it was us who moved them (the caller given back).
MOVED_BY_US = "participant_updated_via_api"
TRANSFER_QUERY = "transfer"

# AnsweredBy values that mean no person took the call (`unknown` is given the brief: a
# machine cannot press 1).
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")
NOT_ANSWERED = ("no-answer", "busy", "failed", "canceled")
ACCEPT_KEY = "1"
BRIEF_WAIT_S = 3.0  # a human who answered before the LLM's brief was written waits this long
BRIEF_POLL_S = 0.1
DECLINED_GOODBYE = "Okay. The caller goes back to the assistant. Goodbye."
GONE_GOODBYE = "Sorry, the caller is no longer waiting. Goodbye."


class WarmTransfers:
    def __init__(
        self,
        settings: Settings,
        store: CallStore,
        client: Client,
        tokens: CallTokens,
        dialplans: DialplanSet,
        writer: LlmWriter | None,
        call_over: Callable[[str], None],
    ) -> None:
        self._settings = settings
        self._store = store
        self._client = client
        self._tokens = tokens
        self._dialplans = dialplans
        self._writer = writer
        self._call_over = call_over  # the caller's call is over: its after-call step
        self._tasks: set[asyncio.Task[None]] = set()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(ANSWER_PATH, self.answer)
        router.add_post(ACCEPT_PATH, self.accept)
        router.add_post(STATUS_PATH, self.status)
        router.add_post(LEFT_PATH, self.left)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- from the agent's transfer ---------------------------------------------------------

    async def begin(
        self,
        control: TwilioCallControl,
        *,
        department: str,
        target: str,
        caller_id: str | None,
        announcement: str,
        ring_timeout_s: int,
        reason: str,
    ) -> None:
        call_sid = control.call_sid
        record = await self._store.get(call_sid)
        transfer_id = secrets.token_hex(8)
        transfer = WarmTransfer(
            transfer_id=transfer_id,
            call_sid=call_sid,
            dialplan=record.dialplan if record is not None else "",
            department=department,
            target=target,
            conference=f"warm-{transfer_id}",  # no caller data in a conference's name
        )
        await self._store.warm.add(transfer)
        try:
            human = await self._ring(control, transfer, ring_timeout_s, caller_id)
        except CallControlError:
            await self._store.warm.move(transfer_id, "ringing", "returned")
            raise  # the agent keeps the caller (then `transfer_fallback`)
        await self._store.warm.set_human(transfer_id, human)
        self._spawn(self._write_brief(transfer, reason), f"warm-brief-{call_sid}")
        hold = hold_twiml(
            announcement,
            transfer.conference,
            self._department(transfer).hold_music_url,
            self._url(LEFT_PATH, transfer_id),
        )
        try:
            await control.update_twiml(hold)
        except CallControlError:
            await self._store.warm.move(transfer_id, "ringing", "returned")
            await control.end_leg(human)
            raise
        log.info("warm transfer %s: ringing %s, the caller holds", transfer_id, department)

    async def _ring(
        self,
        control: TwilioCallControl,
        transfer: WarmTransfer,
        ring_timeout_s: int,
        caller_id: str | None,
    ) -> str:
        """Place the human's leg; its CallSid."""
        transfer_id = transfer.transfer_id
        return await control.create_leg(
            to=transfer.target,
            from_=caller_id,
            url=self._url(ANSWER_PATH, transfer_id),
            method="POST",
            status_callback=self._url(STATUS_PATH, transfer_id),
            status_callback_method="POST",
            machine_detection="Enable",
            timeout=ring_timeout_s,
        )

    async def _write_brief(self, transfer: WarmTransfer, reason: str) -> None:
        record = await self._store.get(transfer.call_sid)
        dialplan = self._dialplans.named(transfer.dialplan)
        if dialplan is None:
            return
        brief, usage = await transfer_brief(
            self._writer, dialplan, record, transfer.department, reason
        )
        await self._store.warm.set_brief(transfer.transfer_id, brief)
        if usage is not None:
            await self._store.add_writing(
                transfer.call_sid, Writing(purpose="transfer brief", usage=usage)
            )
            metrics.tokens_used(usage)

    async def _written_brief(self, transfer: WarmTransfer) -> str:
        """The brief still being written when the human answered: waited for a moment when an
        LLM writes it (the phone usually rings longer than that), else made by rules now."""
        dialplan = self._dialplans.named(transfer.dialplan)
        if self._writer is not None and dialplan is not None and self._writer.providers(dialplan):
            loop = asyncio.get_running_loop()
            deadline = loop.time() + BRIEF_WAIT_S
            while loop.time() < deadline:
                await asyncio.sleep(BRIEF_POLL_S)
                written = await self._store.warm.get(transfer.transfer_id)
                if written is not None and written.brief:
                    return written.brief
        return rules_brief(await self._store.get(transfer.call_sid), transfer.department, "")

    # -- the human's leg: Twilio's webhooks ------------------------------------------------

    async def answer(self, request: web.Request) -> web.Response:
        """`POST /twilio/warm/answer?transfer=`: the human's leg was answered (AMD done)."""
        fields = await signed_fields(self._settings, request, "warm transfer answer")
        transfer = await self._transfer(request)
        answered_by = fields.get("AnsweredBy", "")
        if answered_by in MACHINE:
            log.info("warm transfer %s answered by %s", transfer.transfer_id, answered_by)
            self._give_back(transfer, "ringing", "machine")
            return twiml_response(hangup_twiml())
        if not await self._store.warm.move(transfer.transfer_id, "ringing", "answered"):
            return twiml_response(say_and_hang_up_twiml(GONE_GOODBYE))
        brief = transfer.brief or await self._written_brief(transfer)
        department = self._department(transfer)
        accept_url = self._url(ACCEPT_PATH, transfer.transfer_id)
        return twiml_response(brief_twiml(brief, accept_url, department.accept_timeout_s))

    async def accept(self, request: web.Request) -> web.Response:
        """`POST /twilio/warm/accept?transfer=`: the human's key after the brief (or none)."""
        fields = await signed_fields(self._settings, request, "warm transfer accept")
        transfer = await self._transfer(request)
        if fields.get("Digits", "") != ACCEPT_KEY:
            self._give_back(transfer, "answered", "declined")
            return twiml_response(say_and_hang_up_twiml(DECLINED_GOODBYE))
        if not await self._store.warm.move(transfer.transfer_id, "answered", "accepted"):
            return twiml_response(say_and_hang_up_twiml(GONE_GOODBYE))
        await self._store.add_leg(transfer.call_sid, self._leg(transfer, "accepted"))
        log.info("warm transfer %s accepted: joining the caller", transfer.transfer_id)
        return twiml_response(join_twiml(transfer.conference))

    async def status(self, request: web.Request) -> web.Response:
        """`POST /twilio/warm/status?transfer=`: the human's leg ended."""
        fields = await signed_fields(self._settings, request, "warm transfer status")
        transfer = await self._transfer(request)
        status = fields.get("CallStatus", "")
        if status in NOT_ANSWERED:
            self._give_back(transfer, "ringing", status)
        elif status == "completed":
            if await self._store.warm.move(transfer.transfer_id, "accepted", "ended"):
                duration = int(fields.get("CallDuration", "0") or 0)
                leg = self._leg(transfer, "completed", duration)
                await self._store.add_leg(transfer.call_sid, leg)
                self._call_over(transfer.call_sid)
            else:  # hung up during the brief
                self._give_back(transfer, "answered", "declined")
        return web.Response(status=204)

    async def left(self, request: web.Request) -> web.Response:
        """`POST /twilio/warm/left?transfer=`: someone left the hold conference. The caller
        hanging up before the human took the call: the human's leg is ended, the call too."""
        fields = await signed_fields(self._settings, request, "warm transfer conference")
        transfer = await self._transfer(request)
        if (
            fields.get("StatusCallbackEvent") != "participant-leave"
            or fields.get("CallSid") != transfer.call_sid
            or fields.get("ReasonParticipantLeft") == MOVED_BY_US
        ):
            return web.Response(status=204)
        for before in ("ringing", "answered"):
            if await self._store.warm.move(transfer.transfer_id, before, "ended"):
                self._spawn(self._caller_left(transfer), f"warm-left-{transfer.call_sid}")
                break
        return web.Response(status=204)

    async def _caller_left(self, transfer: WarmTransfer) -> None:
        call_sid = transfer.call_sid
        log.info("warm transfer %s: the caller hung up on hold", transfer.transfer_id)
        await self._store.add_leg(call_sid, self._leg(transfer, "caller-left"))
        # The stream's end closed it as transferred; it ended on hold instead.
        if await self._store.reopen_call(call_sid):
            await self._store.close_call(call_sid, "completed", "caller hung up while on hold")
        actions: list[TwilioAction] = []
        control = self._control(call_sid, actions)
        await control.end_leg(transfer.human_call_sid)
        for action in actions:
            await self._store.add_action(call_sid, action)
        self._call_over(call_sid)

    # -- the caller back with the agent ----------------------------------------------------

    def _give_back(self, transfer: WarmTransfer, before: WarmState, outcome: str) -> None:
        self._spawn(self._return(transfer, before, outcome), f"warm-return-{transfer.call_sid}")

    async def _return(self, transfer: WarmTransfer, before: WarmState, outcome: str) -> None:
        if not await self._store.warm.move(transfer.transfer_id, before, "returned"):
            return  # another callback of this leg acted already
        call_sid = transfer.call_sid
        await self._store.add_leg(call_sid, self._leg(transfer, outcome))
        log.info("warm transfer %s: %s, the caller goes back", transfer.transfer_id, outcome)
        identity = await reopened_identity(self._store, self._dialplans, call_sid)
        if identity is None:
            log.warning("warm transfer %s: the call is no longer waiting", transfer.transfer_id)
            return
        actions: list[TwilioAction] = []
        control = self._control(call_sid, actions)
        try:
            await control.update_twiml(caller_stream_twiml(self._settings, self._tokens, identity))
        except CallControlError:
            # Most likely the caller hung up while holding.
            log.warning("warm transfer %s: the caller could not be brought back", call_sid)
            await self._store.close_call(call_sid, "completed", "caller left while on hold")
            self._call_over(call_sid)
        finally:
            for action in actions:
                await self._store.add_action(call_sid, action)

    # -- helpers ---------------------------------------------------------------------------

    def _control(self, call_sid: str, actions: list[TwilioAction]) -> TwilioCallControl:
        """REST requests about the caller's call, kept in `actions` for its record."""
        return TwilioCallControl(
            self._client,
            call_sid,
            on_action=actions.append,
            dial_action_url=self._settings.public_base_url + DIAL_ACTION_PATH,
        )

    async def _transfer(self, request: web.Request) -> WarmTransfer:
        transfer = await self._store.warm.get(request.query.get(TRANSFER_QUERY, ""))
        if transfer is None:
            raise web.HTTPNotFound(text="no such transfer")
        return transfer

    def _department(self, transfer: WarmTransfer) -> Department:
        """The department's settings; the defaults when this instance lacks its dialplan."""
        dialplan = self._dialplans.named(transfer.dialplan)
        found = dialplan.departments.get(transfer.department) if dialplan is not None else None
        return found or Department(target=transfer.target, transfer="warm")

    @staticmethod
    def _leg(transfer: WarmTransfer, status: str, duration_s: int = 0) -> CallLeg:
        return CallLeg(
            kind="warm",
            department=transfer.department,
            target=transfer.target,
            status=status,
            sid=transfer.human_call_sid,
            duration_s=duration_s,
        )

    def _url(self, path: str, transfer_id: str) -> str:
        return f"{self._settings.public_base_url}{path}?{urlencode({TRANSFER_QUERY: transfer_id})}"

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(self._logged(work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("warm transfer step failed")
