"""The tool only calls the bridge placed have: `opt_out`, a callee's wish not to be called again.

The number goes on the do-not-call list and the call's outcome becomes `opted_out` (one
store write, shared by every instance, so no campaign dials it again), then the callee hears
the dialplan's confirmation as written and the call ends.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bridge.addresses import e164_of
from bridge.agent.base import CallContext, ToolEvent
from bridge.dialplan.models import Dialplan

log = logging.getLogger(__name__)

OPT_OUT = "opt_out"
OPT_OUT_DESCRIPTION = (
    "Put the person on the do-not-call list when they ask not to be called again (\"don't "
    'call me again", "take me off your list", "stop calling"). The call then tells them '
    "it is done and hangs up: do not say goodbye yourself."
)


class OptOutArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        default="", max_length=200, description="What the person said, in a few words"
    )


class OptOutList(Protocol):
    """Where opt-outs are kept (the store's do-not-call list)."""

    async def opt_out(self, phone: str, call_sid: str, reason: str) -> None:
        """Put `phone` on the list and mark `call_sid` `opted_out`, together."""
        ...


async def opt_out(
    dialplan: Dialplan,
    context: CallContext,
    opt_outs: OptOutList | None,
    arguments: dict[str, Any],
    args: OptOutArgs,
) -> ToolEvent:
    """Record the opt-out; on success the confirmation is the call's last words."""
    if not context.outbound or dialplan.outbound is None or opt_outs is None:
        return ToolEvent(OPT_OUT, arguments, {"error": "only calls we placed can opt out"})
    phone = e164_of(context.caller) or context.caller
    try:
        await opt_outs.opt_out(phone, context.call_sid, args.reason)
    except Exception:
        # Nobody is told "you won't be called again" unless it is written down.
        log.exception("opt-out of call %s could not be recorded", context.call_sid)
        return ToolEvent(OPT_OUT, arguments, {"error": "the do-not-call list is not answering"})
    log.info("call %s: the callee opted out of further calls", context.call_sid)
    confirmation = dialplan.outbound.opt_out_confirmation
    return ToolEvent(
        OPT_OUT,
        arguments,
        {"ok": True, "confirmation": confirmation},
        ends_call=True,
        last_words=confirmation,
    )
