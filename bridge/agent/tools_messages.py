"""The `take_message` tool: when nobody can take the call, the caller leaves a message or
asks to be called back. What they said is kept on the call record (the tool's arguments and
result, see `records.messages_of`) and goes out in the after-call webhook."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bridge.addresses import e164_of
from bridge.agent.base import CallContext, ToolEvent
from bridge.dialplan.models import Dialplan

TAKE_MESSAGE = "take_message"
TAKE_MESSAGE_DESCRIPTION = (
    "When nobody can take the call (a transfer was not answered, or the caller would rather "
    "not wait), offer to take a message or arrange a call back. Once the caller has said "
    "what to pass on, record it here, then tell them it is noted."
)
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{5,30}$")


class TakeMessageArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["message", "callback"] = Field(
        description="message: pass words on; callback: someone should call the caller back"
    )
    message: str = Field(
        min_length=1, max_length=1000, description="What the caller wants passed on, as said"
    )
    department: str | None = Field(
        default=None, max_length=100, description="Who it is for (a department), if known"
    )
    name: str | None = Field(default=None, max_length=100, description="The caller's name")
    callback_number: str | None = Field(
        default=None,
        max_length=32,
        description="Only if the caller gives another number than the one they call from",
    )
    callback_when: str | None = Field(
        default=None, max_length=100, description="When they would like the call, as said"
    )


def take_message(
    dialplan: Dialplan, context: CallContext, arguments: dict[str, Any], args: TakeMessageArgs
) -> ToolEvent:
    if not dialplan.take_messages:
        return ToolEvent(TAKE_MESSAGE, arguments, {"error": "this line takes no messages"})
    number = args.callback_number or e164_of(context.caller) or context.caller
    if args.kind == "callback" and not _PHONE.match(number or ""):
        result = {"error": "no number to call back: ask the caller for one"}
        return ToolEvent(TAKE_MESSAGE, arguments, result)
    result: dict[str, Any] = {"ok": True, "kind": args.kind, "message": args.message}
    if args.kind == "callback":
        result["callback_number"] = number
    return ToolEvent(TAKE_MESSAGE, arguments, result)
