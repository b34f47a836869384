"""The rules agent: serves a line with no LLM, and is the safety net when every LLM fails.

Intents come from the dialplan (department names and synonyms) and from fixed phrases
(orders, goodbyes). It is deterministic and does no I/O of its own: all it does to the call
or the order backend goes through the same tools the LLM agents use. Like the LLM agents,
it speaks while a slow tool runs: an order lookup still running after a moment is announced
("Let me check that order.") and `ToolStarted` has that played at once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import date
from itertools import count
from typing import Any

from bridge.agent.base import AgentEvent, CallerTurn, Message, TextDelta, ToolEvent, ToolStarted
from bridge.agent.order_ids import keyed_order_id, order_id_candidates
from bridge.agent.tools import ToolExecutor
from bridge.agent.words import plain_words
from bridge.dialplan.models import Dialplan
from bridge.speech.base import UNSURE_BELOW

# At most this many readings of one turn are looked up ("120 dollars, order 4572").
MAX_LOOKUPS = 3
# A lookup still running this long is announced: the caller hears why the line is quiet
# before the call's generic filler would play (a quick backend is never announced).
ANNOUNCE_LOOKUP_AFTER_S = 0.5
CHECKING = "Let me check that order."

ANYTHING_ELSE = "Is there anything else I can help with?"
# Every question for the order id says "order number": the next turn looks for it.
ASK_MARKER = "order number"
# Every question for a verification answer says this: the next turn is the answer.
VERIFY_MARKER = "to confirm it's your order"
# A goodbye or a transfer heard with low confidence is asked about first; these questions
# mark the next turn as the answer.
CONFIRM_END = "Did you want to end the call?"
CONFIRM_TRANSFER = "Did you want me to connect you to"
CONFIRM_OPT_OUT = "Did you want us to stop calling you?"

_ORDER_TALK = re.compile(
    r"\b(orders?|package|parcel|shipment|shipping|delivery|delivered|tracking|track|arrive)\b"
)
_GOODBYE = re.compile(
    r"\b(bye|goodbye|good bye|hang up|that s all|that s it|that is all|that will be all|"
    r"i m done|i am done|no thanks|no thank you|nothing else|i m all set|all set)\b"
)
_DECLINE = re.compile(r"^(no|nope|nah|i m good|i am good|i m fine|not really|that s fine)\b")
_WANTS_PERSON = re.compile(
    r"\b(human|person|someone|somebody|representative|operator|agent|real person|speak to)\b"
)
_AFFIRM = re.compile(r"^(yes|yeah|yep|yup|sure|please|correct|right|that s right|ok|okay)\b")
_ASKS_ABOUT_US = re.compile(
    r"\b(hours|opening|open today|what time|closing time|address|located|location|directions)\b"
)
# A callee who asks not to be called again (on calls the bridge placed: the `opt_out` tool).
_OPT_OUT = re.compile(
    r"\b((don t|do not|never|stop|quit) (ever )?(call|calling|ring|ringing|phone|phoning)\b|"
    r"(take|remove|delete|cross) (me|my number|this number|us) (off|from)\b|"
    r"don t want (any )?(more |these )?calls|unsubscribe|opt out|do not call list)"
)
_KEY_NAMES = {"#": "pound", "*": "star"}

# How each status reads after "Order 4 5 7 2 ..."; others read "has the status <status>".
_STATUS_PHRASES = {
    "shipped": "has shipped",
    "in transit": "is in transit",
    "out for delivery": "is out for delivery",
    "delivered": "was delivered",
    "processing": "is being processed",
    "pending": "is pending",
    "on hold": "is on hold",
    "cancelled": "was cancelled",
    "canceled": "was cancelled",
    "returned": "was returned",
}
_NO_ETA = {"cancelled", "canceled", "returned"}
_WITH_CARRIER = {"shipped", "in transit", "out for delivery"}


def _spoken_id(order_id: str) -> str:
    """Digit by digit, as people read ids back: "4 5 7 2", never "four thousand ..."."""
    return " ".join(order_id) if order_id.isdigit() else order_id


def _spoken_list(words: list[str]) -> str:
    if len(words) < 3:
        return " or ".join(words)
    return f"{', '.join(words[:-1])}, or {words[-1]}"


def _day(eta: date) -> str:
    return f"{eta:%A}, {eta:%B} {eta.day}"


def order_sentence(result: dict[str, Any]) -> str:
    """What to say about an order found by `check_order_status`."""
    status = str(result["status"]).strip().lower()
    subject = f"Order {_spoken_id(result['order_id'])}"
    item = str(result.get("item") or "")
    if item and result.get("caller_is_customer"):  # only the customer hears what they bought
        subject += (
            f", {item}," if item.lower().startswith(("the ", "a ", "an ")) else f", your {item},"
        )
    sentence = f"{subject} {_STATUS_PHRASES.get(status, f'has the status {status}')}"
    if result.get("carrier") and status in _WITH_CARRIER:
        sentence += f" with {result['carrier']}"
    if result.get("eta") and status not in _NO_ETA:
        eta = _day(date.fromisoformat(result["eta"]))
        sentence += f" on {eta}" if status == "delivered" else f" and should arrive by {eta}"
    return f"{sentence}. {ANYTHING_ELSE}"


class RulesAgent:
    """Answers from the dialplan's intents; implements the Agent protocol."""

    def __init__(self, dialplan: Dialplan, tools: ToolExecutor) -> None:
        self.dialplan = dialplan
        self.tools = tools
        self._call_ids = count(1)
        terminator = dialplan.dtmf.order_id_terminator
        key = _KEY_NAMES.get(terminator, terminator)
        self._key = key
        self._ask = f"Sure. What's your {ASK_MARKER}? You can say it, or key it in and press {key}."
        self._ask_again = (
            f"Sorry, I didn't catch the {ASK_MARKER}. Please say it one digit at a time, "
            f"or key it in and press {key}."
        )

    async def respond(self, history: list[Message], turn: CallerTurn) -> AsyncIterator[AgentEvent]:
        verifying = VERIFY_MARKER in _last_agent_text(history)
        if turn.source == "dtmf":
            keyed = keyed_order_id(turn.text)
            if keyed and verifying and (order_id := _last_order_id(history)):
                replies = self._verify(order_id, keyed)
            elif keyed:
                replies = self._check_orders([keyed])
            else:
                replies = self._say(self.dialplan.reprompt)
        elif (
            verifying
            and (answer := order_id_candidates(turn.text, min_digits=1))
            and (order_id := _last_order_id(history))
        ):
            replies = self._verify(order_id, answer[0])
        else:
            replies = self._answer(history, turn.text, unsure=turn.confidence < UNSURE_BELOW)
        async for event in replies:
            yield event

    def _answer(
        self, history: list[Message], text: str, unsure: bool = False
    ) -> AsyncIterator[AgentEvent]:
        said = plain_words(text)
        last = _last_agent_text(history)
        confirmed = self._confirmed(last, said)
        if confirmed is not None:
            return confirmed
        if self.tools.context.outbound and _OPT_OUT.search(said):
            return self._say(CONFIRM_OPT_OUT) if unsure else self._opt_out(text)
        asked = ASK_MARKER in last.lower()
        can_look_up = self.tools.orders is not None
        candidates = order_id_candidates(text) if can_look_up else []
        order_talk = asked or bool(_ORDER_TALK.search(said))
        department = self.tools.departments.find_in(text)
        if candidates and (order_talk or department is None):
            return self._check_orders(candidates)
        if department is not None:
            if unsure:
                return self._say(f"{CONFIRM_TRANSFER} {department.replace('_', ' ')}?")
            return self._transfer(department)
        if _GOODBYE.search(said) or (ANYTHING_ELSE in last and _DECLINE.search(said)):
            return self._say(CONFIRM_END) if unsure else self._goodbye()
        if order_talk and can_look_up:
            return self._say(self._ask_again if asked else self._ask)
        if order_talk:
            return self._say(f"Sorry, I can't look up orders on this line. {ANYTHING_ELSE}")
        if _ASKS_ABOUT_US.search(said) and self.dialplan.business_info:
            return self._say(f"{self.dialplan.business_info.strip()} {ANYTHING_ELSE}")
        if _WANTS_PERSON.search(said) and self.dialplan.departments:
            names = [name.replace("_", " ") for name in self.dialplan.departments]
            return self._say(f"Of course. Which department would you like: {_spoken_list(names)}?")
        return self._say(self.dialplan.reprompt)

    def _confirmed(self, last: str, said: str) -> AsyncIterator[AgentEvent] | None:
        """The answer to a check on a goodbye or a transfer heard unsure: act on a yes,
        carry on after a no; anything else is a new request (None)."""
        if CONFIRM_END not in last and CONFIRM_TRANSFER not in last and CONFIRM_OPT_OUT not in last:
            return None
        if _AFFIRM.search(said):
            if CONFIRM_OPT_OUT in last:
                return self._opt_out("confirmed: stop calling")
            department = self.tools.departments.find_in(last)
            if CONFIRM_TRANSFER in last and department is not None:
                return self._transfer(department)
            return self._goodbye()
        # A bare "no" keeps the caller on the line; "no, I need ..." is a new request.
        if _DECLINE.search(said) and len(said.split()) <= 3:
            return self._say(f"Okay. {ANYTHING_ELSE}")
        return None

    async def _say(self, text: str) -> AsyncIterator[AgentEvent]:
        yield TextDelta(text)

    async def _check_orders(self, candidates: list[str]) -> AsyncIterator[AgentEvent]:
        for index, order_id in enumerate(candidates[:MAX_LOOKUPS]):
            lookup = self._start_lookup({"order_id": order_id})
            try:
                if index == 0:  # announced once a turn
                    async for announced in _announce_if_slow(lookup):
                        yield announced
                event = await lookup
            finally:
                lookup.cancel()  # a reply cancelled mid-lookup leaves nothing running
            yield event
            if event.result.get("error") != "order not found":
                yield TextDelta(_order_reply(event.result, self._key))
                return
        yield TextDelta(
            f"I couldn't find order {_spoken_id(candidates[0])}. "
            f"Could you say the {ASK_MARKER} again, one digit at a time?"
        )

    async def _verify(self, order_id: str, answer: str) -> AsyncIterator[AgentEvent]:
        lookup = self._start_lookup({"order_id": order_id, "verification": answer})
        try:
            async for announced in _announce_if_slow(lookup):
                yield announced
            event = await lookup
        finally:
            lookup.cancel()
        yield event
        yield TextDelta(_order_reply(event.result, self._key))

    async def _transfer(self, department: str) -> AsyncIterator[AgentEvent]:
        yield TextDelta(f"Connecting you to {department.replace('_', ' ')}.")
        event = await self._tool("transfer_call", {"department": department})
        yield event
        if not event.transferred:
            yield TextDelta(f" Sorry, I couldn't connect you just now. {ANYTHING_ELSE}")

    async def _opt_out(self, said: str) -> AsyncIterator[AgentEvent]:
        """On the do-not-call list first; only then is the callee told so (its last words)."""
        event = await self._tool("opt_out", {"reason": said[:200]})
        yield event
        if event.last_words:
            yield TextDelta(event.last_words)
        else:
            yield TextDelta(f"Sorry, I couldn't update our call list just now. {ANYTHING_ELSE}")

    async def _goodbye(self) -> AsyncIterator[AgentEvent]:
        yield TextDelta(self.dialplan.goodbye)
        yield await self._tool("end_call", {})

    async def _tool(self, name: str, arguments: dict[str, Any]) -> ToolEvent:
        return await self.tools.run(name, arguments, call_id=f"rules_{next(self._call_ids)}")

    def _start_lookup(self, arguments: dict[str, Any]) -> asyncio.Task[ToolEvent]:
        return asyncio.create_task(self._tool("check_order_status", arguments), name="lookup")


async def _announce_if_slow(lookup: asyncio.Task[ToolEvent]) -> AsyncIterator[AgentEvent]:
    """The announcement and `ToolStarted`, when `lookup` is still running after a moment."""
    await asyncio.wait({lookup}, timeout=ANNOUNCE_LOOKUP_AFTER_S)
    if not lookup.done():
        yield TextDelta(CHECKING + " ")
        yield ToolStarted("check_order_status")


def _order_reply(result: dict[str, Any], key: str) -> str:
    """What to say to a lookup that found the order, or refused or failed to."""
    if result.get("found"):
        return order_sentence(result)
    error = str(result.get("error", ""))
    spoken = _spoken_id(str(result.get("order_id", "")))
    question = f"Could you tell me {result.get('ask_for', '')}, {VERIFY_MARKER}?"
    if error == "verification required":
        return f"I found order {spoken}. {question} You can say it, or key it in and press {key}."
    if error == "verification failed" and result.get("attempts_left", 0) > 0:
        return f"Sorry, that doesn't match the order. {question}"
    if error.startswith(("verification failed", "too many failed")):
        return (
            f"Sorry, that doesn't match, so I can't share that order on this call. {ANYTHING_ELSE}"
        )
    if error.startswith("not a valid order number"):
        return f"Sorry, that isn't an order number I can look up. {ANYTHING_ELSE}"
    if error.startswith("not allowed"):
        return (
            "Sorry, I can only share an order's details on a call from the phone number on "
            f"the order. {ANYTHING_ELSE}"
        )
    return (
        "Sorry, I can't reach our order system right now. "
        f"Please try again in a few minutes. {ANYTHING_ELSE}"
    )


def _last_order_id(history: list[Message]) -> str | None:
    """The order the agent last looked up (its tool call is in the history)."""
    for message in reversed(history):
        for call in reversed(message.tool_calls):
            if call.name == "check_order_status" and call.arguments.get("order_id"):
                return str(call.arguments["order_id"])
    return None


def _last_agent_text(history: list[Message]) -> str:
    """What the agent last said (as heard); tool-call entries carry no text."""
    return next((m.text for m in reversed(history) if m.role == "agent" and m.text), "")
