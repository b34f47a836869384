"""The rules agent: serves a line with no LLM, and is the safety net when every LLM fails.

Intents come from the dialplan (department names and synonyms) and from fixed phrases
(orders, goodbyes). It is deterministic and does no I/O of its own: all it does to the call
or the order backend goes through the same tools the LLM agents use. Like the LLM agents,
it speaks while a slow tool runs: an order lookup still running after a moment is announced
("Let me check that order.") and `ToolStarted` has that played at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from itertools import count
from typing import Any

from bridge.agent.base import AgentEvent, CallerTurn, Message, TextDelta, ToolEvent, ToolStarted
from bridge.agent.order_ids import keyed_order_id, order_id_candidates
from bridge.agent.phrases import ENGLISH, Phrases, phrases_for
from bridge.agent.tools import ToolExecutor
from bridge.agent.words import plain_words
from bridge.dialplan.models import Dialplan
from bridge.speech.base import UNSURE_BELOW

# At most this many readings of one turn are looked up ("120 dollars, order 4572").
MAX_LOOKUPS = 3
# A lookup still running this long is announced: the caller hears why the line is quiet
# before the call's generic filler would play (a quick backend is never announced).
ANNOUNCE_LOOKUP_AFTER_S = 0.5
CHECKING = ENGLISH.checking  # kept as a fixed phrase of every English line


def _spoken_id(order_id: str) -> str:
    """Digit by digit, as people read ids back: "4 5 7 2", never "four thousand ..."."""
    return " ".join(order_id) if order_id.isdigit() else order_id


def order_sentence(result: dict[str, Any], p: Phrases = ENGLISH) -> str:
    """What to say about an order found by `check_order_status`."""
    status = str(result["status"]).strip().lower()
    subject = p.order.format(order=_spoken_id(result["order_id"]))
    item = str(result.get("item") or "")
    if item and result.get("caller_is_customer"):  # only the customer hears what they bought
        articled = p is ENGLISH and item.lower().startswith(("the ", "a ", "an "))
        subject += f", {item}," if articled else p.your_item.format(item=item)
    sentence = f"{subject} {p.status.get(status) or p.other_status.format(status=status)}"
    if result.get("carrier") and status in p.with_carrier_statuses:
        sentence += p.with_carrier.format(carrier=result["carrier"])
    if result.get("eta") and status not in p.no_eta:
        day = p.spoken_day(date.fromisoformat(result["eta"]))
        sentence += (p.delivered_on if status == "delivered" else p.arrives_by).format(day=day)
    return f"{sentence}. {p.anything_else}"


class RulesAgent:
    """Answers from the dialplan's intents; implements the Agent protocol."""

    def __init__(self, dialplan: Dialplan, tools: ToolExecutor) -> None:
        self.dialplan = dialplan
        self.tools = tools
        self._call_ids = count(1)
        self._language = dialplan.recognition.language
        self.p = phrases_for(self._language)

    @property
    def _key(self) -> str:
        """The name of the key that ends a keyed entry, as the caller's language says it."""
        terminator = self.dialplan.dtmf.order_id_terminator
        return self.p.key_names.get(terminator, terminator)

    async def respond(self, history: list[Message], turn: CallerTurn) -> AsyncIterator[AgentEvent]:
        if self._language == "auto" and turn.language:
            self.p = phrases_for(turn.language)  # answered in the language heard
        verifying = self.p.verify_marker in _last_agent_text(history)
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
        p, said = self.p, plain_words(text)
        last = _last_agent_text(history)
        confirmed = self._confirmed(last, said)
        if confirmed is not None:
            return confirmed
        if self.tools.context.outbound and p.opt_out.search(said):
            return self._say(p.confirm_opt_out) if unsure else self._opt_out(text)
        if p.callback_marker in last or p.message_marker in last:
            kind = "callback" if p.callback_marker in last else "message"
            return self._take_message(kind, text)
        if self.dialplan.take_messages and p.wants_callback.search(said):
            return self._say(p.ask_callback.format(marker=p.callback_marker))
        if self.dialplan.take_messages and p.wants_message.search(said):
            return self._say(p.ask_message.format(marker=p.message_marker))
        asked = p.ask_marker in last.lower()
        can_look_up = self.tools.orders is not None
        candidates = order_id_candidates(text) if can_look_up else []
        order_talk = asked or bool(p.order_talk.search(said))
        department = self.tools.departments.find_in(text)
        if candidates and (order_talk or department is None):
            return self._check_orders(candidates)
        if department is not None:
            if unsure:
                return self._say(f"{p.confirm_transfer} {department.replace('_', ' ')}?")
            return self._transfer(department)
        if p.goodbye.search(said) or (p.anything_else in last and p.decline.search(said)):
            return self._say(p.confirm_end) if unsure else self._goodbye()
        if order_talk and can_look_up:
            question = p.ask_again if asked else p.ask
            return self._say(question.format(marker=p.ask_marker, key=self._key))
        if order_talk:
            return self._say(f"{p.cannot_look_up} {p.anything_else}")
        if p.asks_about_us.search(said) and self.dialplan.business_info:
            return self._say(f"{self.dialplan.business_info.strip()} {p.anything_else}")
        if p.wants_person.search(said) and self.dialplan.departments:
            names = [name.replace("_", " ") for name in self.dialplan.departments]
            return self._say(p.which_department.format(departments=p.spoken_list(names)))
        return self._say(self.dialplan.reprompt)

    def _confirmed(self, last: str, said: str) -> AsyncIterator[AgentEvent] | None:
        """The answer to a check on a goodbye or a transfer heard unsure: act on a yes,
        carry on after a no; anything else is a new request (None)."""
        p = self.p
        if not any(
            check in last for check in (p.confirm_end, p.confirm_transfer, p.confirm_opt_out)
        ):
            return None
        if p.affirm.search(said):
            if p.confirm_opt_out in last:
                return self._opt_out("confirmed: stop calling")
            department = self.tools.departments.find_in(last)
            if p.confirm_transfer in last and department is not None:
                return self._transfer(department)
            return self._goodbye()
        # A bare "no" keeps the caller on the line; "no, I need ..." is a new request.
        if p.decline.search(said) and len(said.split()) <= 3:
            return self._say(f"{p.okay} {p.anything_else}")
        return None

    async def _say(self, text: str) -> AsyncIterator[AgentEvent]:
        yield TextDelta(text)

    async def _check_orders(self, candidates: list[str]) -> AsyncIterator[AgentEvent]:
        for index, order_id in enumerate(candidates[:MAX_LOOKUPS]):
            lookup = self._start_lookup({"order_id": order_id})
            try:
                if index == 0:  # announced once a turn
                    async for announced in _announce_if_slow(lookup, self.p.checking):
                        yield announced
                event = await lookup
            finally:
                lookup.cancel()  # a reply cancelled mid-lookup leaves nothing running
            yield event
            if event.result.get("error") != "order not found":
                yield TextDelta(_order_reply(event.result, self._key, self.p))
                return
        order, marker = _spoken_id(candidates[0]), self.p.ask_marker
        yield TextDelta(self.p.not_found.format(order=order, marker=marker))

    async def _verify(self, order_id: str, answer: str) -> AsyncIterator[AgentEvent]:
        lookup = self._start_lookup({"order_id": order_id, "verification": answer})
        try:
            async for announced in _announce_if_slow(lookup, self.p.checking):
                yield announced
            event = await lookup
        finally:
            lookup.cancel()
        yield event
        yield TextDelta(_order_reply(event.result, self._key, self.p))

    async def _transfer(self, department: str) -> AsyncIterator[AgentEvent]:
        yield TextDelta(self.p.connecting.format(department=department.replace("_", " ")))
        event = await self._tool("transfer_call", {"department": department})
        yield event
        if not event.transferred:
            yield TextDelta(f" {self.p.not_connected} {self.p.anything_else}")

    async def _opt_out(self, said: str) -> AsyncIterator[AgentEvent]:
        """On the do-not-call list first; only then is the callee told so (its last words)."""
        event = await self._tool("opt_out", {"reason": said[:200]})
        yield event
        if event.last_words:
            yield TextDelta(event.last_words)
        else:
            yield TextDelta(f"{self.p.opt_out_failed} {self.p.anything_else}")

    async def _take_message(self, kind: str, text: str) -> AsyncIterator[AgentEvent]:
        """The caller's words after the question are the message (for the department they
        name, if any)."""
        arguments: dict[str, Any] = {"kind": kind, "message": text[:1000]}
        department = self.tools.departments.find_in(text)
        if department is not None:
            arguments["department"] = department
        event = await self._tool("take_message", arguments)
        yield event
        if not event.result.get("ok"):
            yield TextDelta(self.dialplan.reprompt)
        elif kind == "callback":
            number = str(event.result.get("callback_number", ""))
            taken = self.p.callback_taken.format(number=" ".join(number.lstrip("+")))
            yield TextDelta(f"{taken} {self.p.anything_else}")
        else:
            yield TextDelta(f"{self.p.message_taken} {self.p.anything_else}")

    async def _goodbye(self) -> AsyncIterator[AgentEvent]:
        yield TextDelta(self.dialplan.goodbye)
        yield await self._tool("end_call", {})

    async def _tool(self, name: str, arguments: dict[str, Any]) -> ToolEvent:
        return await self.tools.run(name, arguments, call_id=f"rules_{next(self._call_ids)}")

    def _start_lookup(self, arguments: dict[str, Any]) -> asyncio.Task[ToolEvent]:
        return asyncio.create_task(self._tool("check_order_status", arguments), name="lookup")


async def _announce_if_slow(
    lookup: asyncio.Task[ToolEvent], checking: str
) -> AsyncIterator[AgentEvent]:
    """The announcement and `ToolStarted`, when `lookup` is still running after a moment."""
    await asyncio.wait({lookup}, timeout=ANNOUNCE_LOOKUP_AFTER_S)
    if not lookup.done():
        yield TextDelta(checking + " ")
        yield ToolStarted("check_order_status")


def _order_reply(result: dict[str, Any], key: str, p: Phrases) -> str:
    """What to say to a lookup that found the order, or refused or failed to."""
    if result.get("found"):
        return order_sentence(result, p)
    error = str(result.get("error", ""))
    spoken = _spoken_id(str(result.get("order_id", "")))
    ask_for = p.ask_for.get(str(result.get("verification")), str(result.get("ask_for", "")))
    question = p.verify_question.format(ask_for=ask_for, marker=p.verify_marker)
    if error == "verification required":
        return p.found_verify.format(order=spoken, question=question, key=key)
    if error == "verification failed" and result.get("attempts_left", 0) > 0:
        return p.mismatch.format(question=question)
    if error.startswith(("verification failed", "too many failed")):
        return f"{p.mismatch_final} {p.anything_else}"
    if error.startswith("not a valid order number"):
        return f"{p.not_valid} {p.anything_else}"
    if error.startswith("not allowed"):
        return f"{p.not_allowed} {p.anything_else}"
    return f"{p.backend_down} {p.anything_else}"


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
