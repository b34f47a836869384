"""A caller back from a transfer nobody answered: what the new stream's session continues.

The action webhook reopened the call; the record holds the conversation so far (its turns,
as the caller heard them) and the `<Dial>` that failed (its last leg).
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.agent.base import Message
from bridge.records import CallRecord
from bridge.store.base import CallStore

# Twilio's DialCallStatus (and a warm transfer's outcome), as the agent tells the caller.
DIAL_OUTCOMES = {
    "no-answer": "didn't answer",
    "busy": "is busy",
    "failed": "couldn't be reached",
    "canceled": "couldn't be reached",
    "machine": "didn't answer",
    "declined": "can't take your call right now",
}
# Legs that end with the caller back on a new stream when they were not taken.
TRANSFER_LEGS = ("dial", "warm")


@dataclass(frozen=True)
class ReturnedCall:
    department: str
    status: str  # the failed <Dial>'s DialCallStatus
    history: list[Message]
    turns_so_far: int


async def returned_from_transfer(store: CallStore, call_sid: str) -> ReturnedCall | None:
    """The call's conversation and failed transfer when its last leg is a transfer nobody
    took; None for a new call (or one already back with the agent)."""
    record = await store.get(call_sid)
    if record is None or not record.legs or record.legs[-1].kind not in TRANSFER_LEGS:
        return None
    last = record.legs[-1]
    return ReturnedCall(last.department, last.status, conversation(record), len(record.turns))


def conversation(record: CallRecord) -> list[Message]:
    """The call's turns as history: what the caller said and what they heard of the agent."""
    history: list[Message] = []
    for turn in record.turns:
        if turn.caller and not turn.caller.startswith("("):  # "(silence)": not said
            history.append(Message(role="caller", text=turn.caller))
        if turn.heard:  # as the session keeps it: only what was played to the caller
            history.append(Message(role="agent", text=turn.heard, interrupted=turn.interrupted))
    return history
