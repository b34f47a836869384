"""The call-store seam: where call records, turns and Twilio actions are kept durably."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from bridge.records import (
    CallLeg,
    CallRecord,
    CallStatus,
    CallUsage,
    OutboundRequest,
    TurnRecord,
    TwilioAction,
    WrapUp,
    Writing,
)
from bridge.store.campaigns import SqlCampaigns
from bridge.store.outbox import SqlOutbox
from bridge.store.warm_transfers import SqlWarmTransfers


class UnknownCallError(LookupError):
    """A write named a call that was never opened."""


class CallQuery(BaseModel):
    """Filters for listing calls; every filter left as None matches everything."""

    # Substring of the caller's or the called number.
    number: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    dialplan: str | None = None
    status: CallStatus | None = None
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class CallSummary(BaseModel):
    """One line of a call listing: the call without its turns and actions."""

    call_sid: str
    from_number: str
    to_number: str
    dialplan: str
    status: CallStatus
    end_reason: str
    started_at: datetime
    ended_at: datetime | None
    turn_count: int
    usage: CallUsage | None = None  # once the call is over and its notes are written


class TrustRecords(Protocol):
    """What the trust checks share across instances, beside the call records."""

    async def call_status(self, call_sid: str) -> str | None:
        """The call's recorded status, or None for a call never opened."""

    async def claim_stream(self, call_sid: str, stream_sid: str) -> bool:
        """Start the call's one media stream: False if it ended or a stream started already."""

    async def revoke_session(self, nonce: str, expires_at: datetime) -> None:
        """A console session ended by its user stays ended on every instance until it expires."""

    async def session_revoked(self, nonce: str) -> bool: ...

    async def add_verification_failure(self, subjects: list[str], forget_before: datetime) -> None:
        """Count one wrong verification answer against each subject; older ones are dropped."""

    async def verification_failures(self, subject: str, since: datetime) -> int:
        """Wrong answers counted against `subject` since `since`."""


class CallStore(Protocol):
    trust: TrustRecords
    outbox: SqlOutbox  # after-call webhooks waiting for delivery
    campaigns: SqlCampaigns
    warm: SqlWarmTransfers  # warm transfers in flight

    async def migrate(self) -> None:
        """Bring the schema to the newest version; safe to run any number of times."""

    async def open_call(self, record: CallRecord) -> None:
        """Record a new call (with any turns and actions it already holds).

        Opening a call that exists already keeps the stored call row, except that a record
        naming an `instance_id` claims the call for that instance.
        """

    async def add_turn(self, call_sid: str, turn: TurnRecord) -> None:
        """Keep one turn, durably once this returns; a turn with the same index is replaced."""

    async def add_action(self, call_sid: str, action: TwilioAction) -> None:
        """Keep one REST request made to Twilio for the call."""

    async def add_leg(self, call_sid: str, leg: CallLeg) -> None:
        """Keep one leg of the call (a `<Dial>`'s outcome, the caller back with the agent)."""

    async def add_writing(self, call_sid: str, writing: Writing) -> None:
        """Keep what an LLM wrote for the call outside its turns (a transfer's brief) cost."""

    async def reopen_call(self, call_sid: str) -> bool:
        """A "transferred" call back with the agent: active again with no stream, so a new
        media token can start one; False if the call is not "transferred"."""

    async def set_stream(self, call_sid: str, stream_sid: str) -> None:
        """Attach the media stream's sid to the call."""

    async def close_call(self, call_sid: str, status: CallStatus, reason: str) -> bool:
        """End the call; True if this closed it, False if it was closed already or unknown.

        Only an "active" call changes, so a late or repeated close keeps the first outcome.
        """

    async def set_outcome(self, call_sid: str, outcome: str, *, replace: bool = False) -> bool:
        """Note what came of an outbound call; the first outcome stays unless `replace`."""

    async def set_twilio_status(self, call_sid: str, status: str) -> None:
        """Keep the final CallStatus Twilio reported for the call."""

    async def set_wrap_up(self, call_sid: str, wrap_up: WrapUp, usage: CallUsage) -> None:
        """Keep what the post-call step made of the call, and its usage totals."""

    async def add_agent_speech(self, call_sid: str, ms: int) -> None:
        """Count `ms` more of the agent heard on the call (one stream's worth)."""

    async def set_answered_by(self, call_sid: str, answered_by: str) -> None:
        """Keep Twilio's answering-machine verdict on the call."""

    async def answered_by_of(self, call_sids: list[str]) -> dict[str, str]:
        """The answering-machine verdicts known for these calls (those with none left out)."""

    async def add_outbound(self, request: OutboundRequest) -> None:
        """Keep a call about to be placed, before Twilio can call back about it."""

    async def set_outbound_call(self, request_id: str, call_sid: str) -> None:
        """Attach Twilio's CallSid to a placed call's request."""

    async def get_outbound(self, request_id: str) -> OutboundRequest | None: ...

    async def get(self, call_sid: str) -> CallRecord | None:
        """The whole call with its turns (by index) and actions (in the order made)."""

    async def list_calls(self, query: CallQuery) -> list[CallSummary]:
        """Calls matching the query, newest first."""

    async def close_interrupted(
        self, instance_id: str | None = None, started_before: datetime | None = None
    ) -> int:
        """Mark calls still "active" as "interrupted" (run at startup after a crash).

        Without `instance_id`, every active call; with it, that instance's calls and those
        started before `started_before` (a database shared by several bridges).
        """

    async def close(self) -> None:
        """Release the connection(s); the store is unusable afterwards."""
