"""The agent's tools: one definition for every agent, and the executor that runs them.

The LLM agents send `tool_specs(...)` to the model and hand its calls to `ToolExecutor.run`;
the rules agent calls `run` directly. Bad arguments never reach the call: they come back as
an `{"error": ...}` result the model can read and correct.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bridge.addresses import e164_of, phone_part
from bridge.agent.base import (
    CallContext,
    CallControl,
    CallControlError,
    Message,
    ToolCall,
    ToolEvent,
)
from bridge.agent.departments import DepartmentNames
from bridge.agent.order_ids import order_id_candidates
from bridge.agent.orders import InvalidOrderId, Order, OrderBackendError, OrderLookup
from bridge.agent.tools_messages import (
    TAKE_MESSAGE,
    TAKE_MESSAGE_DESCRIPTION,
    TakeMessageArgs,
    take_message,
)
from bridge.agent.tools_outbound import (
    OPT_OUT,
    OPT_OUT_DESCRIPTION,
    OptOutArgs,
    OptOutList,
    opt_out,
)
from bridge.agent.verification import VerificationAttempts
from bridge.dialplan.models import Dialplan
from bridge.store.base import TrustRecords

log = logging.getLogger(__name__)

# Tools that change the live call: once their REST request is out they run to the end, even
# when the reply that asked for them is cancelled (a barge-in), and the call learns the outcome.
CALL_CHANGING = frozenset({"transfer_call"})
VERIFICATION_PROMPTS = {"zip": "the ZIP code of the delivery address"}

Args = TypeVar("Args", bound=BaseModel)


class TransferCallArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, description="The department to connect the caller to")
    reason: str = Field(
        default="",
        max_length=200,
        description="Why the caller needs this department, in a few words (the person "
        "answering sees it)",
    )


class CheckOrderStatusArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str = Field(
        min_length=1, max_length=64, description="The order number the caller gave, digits only"
    )
    verification: str | None = Field(
        default=None,
        max_length=32,
        description="Only when a lookup answered 'verification required': what the caller "
        "said for the detail it asked for (e.g. the ZIP code). Never guess it.",
    )


class EndCallArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ToolSpec:
    """A tool as offered to a model: its name, what it is for, and its arguments."""

    name: str
    description: str
    args_model: type[BaseModel]
    # Allowed values per argument, known only from the dialplan (the model stays generic).
    enums: dict[str, list[str]] = field(default_factory=dict)

    def json_schema(self) -> dict[str, Any]:
        """The arguments as a JSON Schema object, as OpenAI and Anthropic take it."""
        schema = _without_titles(_model_schema(self.args_model))
        schema.setdefault("properties", {})
        for argument, values in self.enums.items():
            schema["properties"][argument]["enum"] = list(values)
        return schema


@cache
def _model_schema(args_model: type[BaseModel]) -> dict[str, Any]:
    # pydantic builds a schema in about a millisecond; each call offers the same few models.
    # Never mutated: _without_titles copies it.
    return args_model.model_json_schema()


def _without_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: _without_titles(value) for key, value in schema.items() if key != "title"}
    return schema


def tool_specs(dialplan: Dialplan, outbound: bool = False) -> list[ToolSpec]:
    """The tools this line offers: transfer only with departments, orders only with a backend,
    opting out only on a call the bridge placed (`outbound`)."""
    specs = []
    if dialplan.departments:
        listed = "; ".join(
            f"{name} ({', '.join(dept.synonyms)})" if dept.synonyms else name
            for name, dept in dialplan.departments.items()
        )
        specs.append(
            ToolSpec(
                "transfer_call",
                "Transfer the caller to a department when they ask for one or need a person. "
                f"Departments, with what callers call them: {listed}.",
                TransferCallArgs,
                {"department": list(dialplan.departments)},
            )
        )
    if dialplan.orders is not None:
        specs.append(
            ToolSpec(
                "check_order_status",
                "Look up an order's status, carrier and expected delivery date by its number. "
                "Ask the caller for the number first if they have not given it. An order is "
                "only shared with its customer: if the result says 'verification required', "
                "ask the caller for the detail it names and call again with `verification`.",
                CheckOrderStatusArgs,
            )
        )
    if outbound and dialplan.outbound is not None:
        specs.append(ToolSpec(OPT_OUT, OPT_OUT_DESCRIPTION, OptOutArgs))
    if dialplan.take_messages:
        specs.append(ToolSpec(TAKE_MESSAGE, TAKE_MESSAGE_DESCRIPTION, TakeMessageArgs))
    specs.append(
        ToolSpec(
            "end_call",
            "Hang up after your goodbye, once the caller has said they are done.",
            EndCallArgs,
        )
    )
    return specs


class ToolExecutor:
    """Runs one call's tools against its dialplan, call control and order backend."""

    def __init__(
        self,
        dialplan: Dialplan,
        control: CallControl,
        orders: OrderLookup | None,
        context: CallContext,
        trust: TrustRecords | None = None,
        opt_outs: OptOutList | None = None,
    ) -> None:
        self.dialplan = dialplan
        self.control = control
        self.orders = orders
        self.context = context
        self.departments = DepartmentNames(dialplan.departments)
        self.opt_outs = opt_outs
        # Shared with every instance through `trust` (the call store): no fresh tries per call.
        self.attempts = VerificationAttempts(trust, dialplan.name)
        # Told of a call-changing tool that finished after the reply asking for it was cancelled.
        self.on_late: Callable[[ToolEvent], None] = lambda event: None
        self._in_flight: set[asyncio.Task[ToolEvent]] = set()

    async def run(
        self, name: str, arguments: dict[str, Any], call_id: str | None = None
    ) -> ToolEvent:
        """Run a tool; never raises for bad input or a failing backend (see `result["error"]`).

        With `call_id`, the event carries the tool call and its result as history messages.
        """
        if name not in CALL_CHANGING:
            return await self._complete(name, arguments, call_id)
        task = asyncio.create_task(
            self._complete(name, arguments, call_id), name=f"tool-{self.context.call_sid}"
        )
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(self._finished_late)
            raise

    async def settle(self, timeout_s: float) -> None:
        """Let call-changing tools in flight finish (bounded): the call is ending."""
        if not self._in_flight:
            return
        _, pending = await asyncio.wait(set(self._in_flight), timeout=timeout_s)
        for task in pending:
            log.error("%s still running after %.0fs: cancelled", task.get_name(), timeout_s)
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _finished_late(self, task: asyncio.Task[ToolEvent]) -> None:
        if task.cancelled():
            return
        if task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())
            return
        self.on_late(task.result())

    async def _complete(
        self, name: str, arguments: dict[str, Any], call_id: str | None
    ) -> ToolEvent:
        event = await self._run(name, arguments)
        if event.result.get("error"):
            log.warning("tool %s(%s) failed: %s", name, arguments, event.result["error"])
        if call_id is None:
            return event
        messages = (
            Message(
                role="agent", tool_calls=[ToolCall(id=call_id, name=name, arguments=arguments)]
            ),
            Message(role="tool", tool_call_id=call_id, text=json.dumps(event.result)),
        )
        return replace(event, messages=messages)

    async def _run(self, name: str, arguments: dict[str, Any]) -> ToolEvent:
        if name == "transfer_call":
            transfer = _parse(TransferCallArgs, arguments)
            if isinstance(transfer, dict):
                return ToolEvent(name, arguments, transfer)
            return await self._transfer(arguments, transfer)
        if name == "check_order_status":
            check = _parse(CheckOrderStatusArgs, arguments)
            if isinstance(check, dict):
                return ToolEvent(name, arguments, check)
            return ToolEvent(name, arguments, await self._check_order(check))
        if name == "end_call":
            end = _parse(EndCallArgs, arguments)
            if isinstance(end, dict):
                return ToolEvent(name, arguments, end)
            return ToolEvent(name, arguments, {"ok": True}, ends_call=True)
        if name == TAKE_MESSAGE:
            message = _parse(TakeMessageArgs, arguments)
            if isinstance(message, dict):
                return ToolEvent(name, arguments, message)
            return take_message(self.dialplan, self.context, arguments, message)
        if name == OPT_OUT:
            args = _parse(OptOutArgs, arguments)
            if isinstance(args, dict):
                return ToolEvent(name, arguments, args)
            return await opt_out(self.dialplan, self.context, self.opt_outs, arguments, args)
        return ToolEvent(name, arguments, {"error": f"unknown tool {name!r}"})

    async def _transfer(self, arguments: dict[str, Any], args: TransferCallArgs) -> ToolEvent:
        name = self.departments.match(args.department)
        if name is None:
            result = {"error": "unknown department", "departments": list(self.dialplan.departments)}
            return ToolEvent("transfer_call", arguments, result)
        department = self.dialplan.departments[name]
        reason = args.reason or f"caller asked for {name}"
        announcement = department.announcement or f"Transferring you to {name}."
        try:
            await self._dial(name, announcement, reason)
        except CallControlError as exc:
            failure = f"transfer failed: {exc}"
            fallback = self.dialplan.transfer_fallback
            if fallback is None or fallback == name:
                return ToolEvent("transfer_call", arguments, {"error": failure})
            log.warning("transfer to %s failed; falling back to %s", name, fallback)
            # Twilio speaks this before dialling: the apology reaches the caller's ear.
            apology = (
                f"Sorry, I couldn't reach {name.replace('_', ' ')}. "
                f"Transferring you to {fallback.replace('_', ' ')} instead."
            )
            try:
                await self._dial(fallback, apology, f"{name} unreachable; {reason}")
            except CallControlError as again:
                result = {"error": f"{failure}; fallback to {fallback} failed: {again}"}
                return ToolEvent("transfer_call", arguments, result)
            result = {"ok": True, "department": fallback, "fallback_from": name}
            return ToolEvent("transfer_call", arguments, result, transferred=True)
        return ToolEvent(
            "transfer_call", arguments, {"ok": True, "department": name}, transferred=True
        )

    async def _dial(self, name: str, announcement: str, reason: str) -> None:
        """Only dialplan targets are ever dialled: the model names a department, never a number."""
        department = self.dialplan.departments[name]
        called = e164_of(self.context.called)  # a SIP `To`'s user part when it is a number
        await self.control.transfer(
            department.target,
            caller_id=self.dialplan.caller_id or called,
            announcement=announcement,
            department=name,
            ring_timeout_s=department.ring_timeout_s,
            reason=reason,
            warm=department.transfer == "warm",
        )

    async def _check_order(self, check: CheckOrderStatusArgs) -> dict[str, Any]:
        if self.orders is None or self.dialplan.orders is None:
            return {"error": "order lookup is not available on this line"}
        order_id = _clean_order_id(check.order_id)
        try:
            order = await self.orders.find(order_id)
        except InvalidOrderId:
            return {"error": "not a valid order number: letters, digits and dashes only"}
        except OrderBackendError as exc:
            log.warning("order backend failed for order %s: %s", order_id, exc)
            return {"error": "the order system is not answering right now", "order_id": order_id}
        if order is None:
            return {"error": "order not found", "order_id": order_id}
        refusal = await self._refusal(order, check.verification)
        if refusal is not None:
            return {"order_id": order_id, **refusal}
        # The customer's phone and zip stay out: the caller only learns the order's progress.
        return {
            "found": True,
            "order_id": order.order_id,
            "status": order.status,
            "item": order.item,
            "carrier": order.carrier,
            "eta": order.eta.isoformat() if order.eta else None,
            "caller_is_customer": True,
        }

    async def _refusal(self, order: Order, answer: str | None) -> dict[str, Any] | None:
        """Why this caller may not hear `order`, or None when they may."""
        if _same_phone(order.phone, self.context.caller):
            return None
        method = self.dialplan.orders.verification if self.dialplan.orders else None
        if method is None:
            return {"error": "not allowed: only the phone number on the order may hear it"}
        caller, order_id = self.context.caller, order.order_id
        if await self.attempts.left(caller, order_id) == 0:
            return {"error": "too many failed verifications: try again tomorrow"}
        asks = {"verification": method, "ask_for": VERIFICATION_PROMPTS[method]}
        if not answer:
            return {"error": "verification required", **asks}
        expected = _plain(getattr(order, method))
        if expected and hmac.compare_digest(_plain(answer).encode(), expected.encode()):
            return None
        left = await self.attempts.failed(caller, order_id)
        return {"error": "verification failed", "attempts_left": left, **asks}


def _plain(text: str) -> str:
    """Letters and digits only, lower case: "97205", "97 205" and "97-205" are one answer."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _same_phone(order_phone: str, caller: str) -> bool:
    """The order's phone is the caller's number (a SIP caller's user part: `sip:+1555...@h`)."""
    digits = re.sub(r"\D", "", order_phone)
    return bool(digits) and digits == re.sub(r"\D", "", phone_part(caller))


def _parse(model: type[Args], arguments: dict[str, Any]) -> Args | dict[str, Any]:
    """The validated arguments, or the error result a model can read."""
    try:
        return model.model_validate(arguments)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'arguments'}: {error['msg']}"
            for error in exc.errors()
        )
        return {"error": f"invalid arguments: {problems}"}


def _clean_order_id(said: str) -> str:
    """ "#4,572" and "four five seven two" are 4572; an id with letters is kept as given."""
    said = said.strip()
    if re.fullmatch(r"[#\d\s,.\-]+", said):
        return re.sub(r"\D", "", said) or said
    if not any(char.isdigit() for char in said):
        candidates = order_id_candidates(said, min_digits=1)
        return candidates[0] if candidates else said
    return said
