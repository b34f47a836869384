"""Conversations with the rules agent on the shipped Acme line (real tools, real CSV orders)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bridge.agent.base import (
    AgentEvent,
    CallContext,
    CallerTurn,
    Message,
    TextDelta,
    ToolEvent,
)
from bridge.agent.orders import Order, open_order_lookup
from bridge.agent.rules import CHECKING, RulesAgent, order_sentence
from bridge.agent.tools import ToolExecutor
from bridge.dialplan.loader import load_dialplans
from bridge.dialplan.models import Dialplan
from tests.call.virtual_loop import run_virtual
from tests.support.call_control import RecordingControl

ACME = load_dialplans(Path(__file__).resolve().parents[2] / "dialplans").for_number("+15555550100")


class Caller:
    """Plays one call against the agent, keeping history the way the session does."""

    def __init__(
        self,
        dialplan: Dialplan = ACME,
        control: RecordingControl | None = None,
        caller: str = "+15035550142",  # the customer of orders 4572, 1024 and 88310
    ) -> None:
        self.control = control or RecordingControl()
        context = CallContext(call_sid="CA1", caller=caller, called="+15555550100")
        tools = ToolExecutor(dialplan, self.control, open_order_lookup(dialplan.orders), context)
        self.agent = RulesAgent(dialplan, tools)
        self.history: list[Message] = [Message(role="agent", text=dialplan.greeting)]

    async def says(
        self, text: str, source: str = "speech", confidence: float = 1.0
    ) -> tuple[str, list[ToolEvent]]:
        turn = CallerTurn(text=text, source=source, confidence=confidence)  # type: ignore[arg-type]
        self.history.append(Message(role="caller", text=text))
        events: list[AgentEvent] = [e async for e in self.agent.respond(list(self.history), turn)]
        assert self.control.hang_ups == 0, "the rules agent never hangs up itself"
        tools = [e for e in events if isinstance(e, ToolEvent)]
        for tool in tools:
            self.history.extend(tool.messages)
        reply = "".join(e.text for e in events if isinstance(e, TextDelta))
        self.history.append(Message(role="agent", text=reply))
        return reply, tools


def calls(tools: list[ToolEvent]) -> list[tuple[str, dict[str, Any]]]:
    return [(tool.name, tool.arguments) for tool in tools]


@pytest.mark.parametrize(
    "said",
    ["Where is order 4572?", "It's 4,572.", "order four five seven two", "forty five seventy two"],
)
async def test_order_by_digits_or_words_is_looked_up_and_read_back(said: str) -> None:
    reply, tools = await Caller().says(said)
    assert calls(tools) == [("check_order_status", {"order_id": "4572"})]
    assert reply == (
        "Order 4 5 7 2, your Trailblazer 2 tent, has shipped with UPS and should arrive by "
        "Saturday, June 14. Is there anything else I can help with?"
    )


async def test_order_asked_for_then_given_as_bare_digits() -> None:
    caller = Caller()
    reply, tools = await caller.says("Hi, where's my order?")
    assert "order number" in reply and tools == []
    reply, tools = await caller.says("88310")
    assert calls(tools) == [("check_order_status", {"order_id": "88310"})]
    assert reply.startswith("Order 8 8 3 1 0, your Alpine down jacket, is out for delivery")


async def test_asking_again_when_no_number_was_heard() -> None:
    caller = Caller()
    await caller.says("order status please")
    reply, tools = await caller.says("hmm let me find it")
    assert tools == [] and reply.startswith("Sorry, I didn't catch the order number")


async def test_keyed_order_id_is_looked_up() -> None:
    reply, tools = await Caller(caller="+12065550103").says("(keyed) 813906", source="dtmf")
    assert calls(tools) == [("check_order_status", {"order_id": "813906"})]
    assert reply.startswith("Order 8 1 3 9 0 6, your Summit 40L backpack, was delivered on Monday")


async def test_other_numbers_in_the_sentence_do_not_hide_the_order() -> None:
    reply, tools = await Caller().says("I paid 120 dollars for order 4572")
    assert [t.arguments["order_id"] for t in tools] == ["120", "4572"]
    assert reply.startswith("Order 4 5 7 2")


async def test_unknown_order_is_reported_and_the_number_asked_again() -> None:
    caller = Caller()
    reply, _ = await caller.says("order 9999")
    assert reply.startswith("I couldn't find order 9 9 9 9. Could you say the order number again")
    reply, tools = await caller.says("one zero two four")
    assert tools[0].result["found"] and "has shipped" in reply


@pytest.mark.parametrize(
    ("said", "department", "target"),
    [
        ("I have a question about my invoice", "billing", "+15555550130"),
        ("Can I talk to someone in accounts?", "billing", "+15555550130"),
        ("My stove has something broken", "support", "sip:support@acme-outfitters.sip.twilio.com"),
        ("I'd like a quote for ten tents", "sales", "+15555550110"),
        ("Sales, please.", "sales", "+15555550110"),
    ],
)
async def test_transfer_by_name_or_synonym_says_so_first(
    said: str, department: str, target: str
) -> None:
    caller = Caller()
    events = [e async for e in caller.agent.respond(caller.history, CallerTurn(text=said))]
    assert events[0] == TextDelta(f"Connecting you to {department}.")
    assert isinstance(events[1], ToolEvent) and events[1].transferred
    assert [t["target"] for t in caller.control.transfers] == [target]


async def test_failed_transfer_apologises_and_stays_on_the_line() -> None:
    reply, tools = await Caller(control=RecordingControl(failures=1)).says("billing please")
    assert not tools[0].transferred
    assert "couldn't connect you" in reply


async def test_unknown_department_gets_the_reprompt_and_no_transfer() -> None:
    caller = Caller()
    reply, tools = await caller.says("Put me through to the legal department")
    assert reply == ACME.reprompt and tools == [] and caller.control.transfers == []


async def test_asking_for_a_person_offers_the_departments() -> None:
    reply, tools = await Caller().says("Can I speak to a human?")
    assert reply == "Of course. Which department would you like: sales, support, or billing?"
    assert tools == []


@pytest.mark.parametrize("said", ["Bye!", "No thanks, that's it.", "That's all.", "hang up"])
async def test_goodbye_says_the_dialplan_goodbye_then_ends_the_call(said: str) -> None:
    caller = Caller()
    events = [e async for e in caller.agent.respond(caller.history, CallerTurn(text=said))]
    assert events[0] == TextDelta(ACME.goodbye)
    assert isinstance(events[1], ToolEvent) and events[1].ends_call and len(events) == 2


async def test_a_plain_no_after_anything_else_ends_the_call() -> None:
    caller = Caller()
    await caller.says("order 4572")
    reply, tools = await caller.says("No.")
    assert reply == ACME.goodbye and tools[0].ends_call


async def test_a_plain_no_out_of_the_blue_is_not_a_goodbye() -> None:
    reply, tools = await Caller().says("No.")
    assert reply == ACME.reprompt and tools == []


async def test_opening_hours_come_from_the_business_info() -> None:
    reply, tools = await Caller().says("What time do you open on Saturday?")
    assert reply.startswith("Acme Outfitters sells outdoor clothing") and tools == []
    assert "8 AM to 8 PM" in reply


async def test_line_without_orders_says_so() -> None:
    reply, tools = await Caller(Dialplan(name="bare")).says("where is my order 4572")
    assert reply.startswith("Sorry, I can't look up orders on this line") and tools == []


async def test_tool_calls_join_the_history_with_their_results() -> None:
    caller = Caller()
    await caller.says("order 4572")
    call, result = caller.history[-3:-1]
    assert call.tool_calls[0].name == "check_order_status"
    assert result.role == "tool" and result.tool_call_id == call.tool_calls[0].id


@pytest.mark.parametrize(
    ("status", "eta", "expected"),
    [
        ("cancelled", "2025-06-14", "Order 1 2 3 4 was cancelled."),
        ("Processing", None, "Order 1 2 3 4 is being processed."),
        ("delivered", None, "Order 1 2 3 4, the Tent, was delivered."),
        (
            "backordered",
            "2025-06-14",
            "Order 1 2 3 4 has the status backordered and should arrive by Saturday, June 14.",
        ),
    ],
)
def test_order_sentence_reads_each_status(status: str, eta: str | None, expected: str) -> None:
    result = {"order_id": "1234", "status": status, "eta": eta, "carrier": "UPS"}
    result |= {"item": "the Tent", "caller_is_customer": status == "delivered"}
    assert order_sentence(result) == f"{expected} Is there anything else I can help with?"


async def test_a_goodbye_heard_unsure_is_checked_before_the_call_ends() -> None:
    caller = Caller()
    reply, tools = await caller.says("Bye!", confidence=0.3)
    assert reply == "Did you want to end the call?" and tools == []
    reply, tools = await caller.says("No, I need my order status.")
    assert tools == [] and "order number" in reply
    reply, tools = await caller.says("Goodbye.", confidence=0.3)
    assert tools == []
    reply, tools = await caller.says("Yes.")
    assert [tool.name for tool in tools] == ["end_call"]


async def test_a_transfer_heard_unsure_is_checked_and_a_no_keeps_the_caller() -> None:
    caller = Caller()
    reply, tools = await caller.says("Bill and please.", confidence=0.4)
    assert reply == "Did you want me to connect you to billing?" and tools == []
    reply, tools = await caller.says("No.")
    assert tools == [] and reply == "Okay. Is there anything else I can help with?"
    reply, tools = await caller.says("Billing please.", confidence=0.4)
    reply, tools = await caller.says("Yes please.")
    assert calls(tools) == [("transfer_call", {"department": "billing"})]


async def test_a_sure_goodbye_or_transfer_is_acted_on_at_once() -> None:
    _, tools = await Caller().says("Billing please.", confidence=0.9)
    assert calls(tools) == [("transfer_call", {"department": "billing"})]
    _, tools = await Caller().says("Bye!", confidence=0.9)
    assert [tool.name for tool in tools] == ["end_call"]


class SlowOrders:
    """An order backend that takes `seconds` to answer (it knows order 4572 only)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    async def find(self, order_id: str) -> Order | None:
        await asyncio.sleep(self._seconds)
        if order_id != "4572":
            return None
        return Order(order_id="4572", status="shipped", carrier="UPS", phone="+15035550142")


def events_for(said: str, backend_s: float) -> list[AgentEvent]:
    async def run() -> list[AgentEvent]:
        context = CallContext(call_sid="CA1", caller="+15035550142", called="+15555550100")
        tools = ToolExecutor(ACME, RecordingControl(), SlowOrders(backend_s), context)
        agent = RulesAgent(ACME, tools)
        turn = CallerTurn(text=said)
        return [e async for e in agent.respond([Message(role="agent", text="Hi.")], turn)]

    return run_virtual(run())  # virtual time: the slow backend costs nothing


def test_a_slow_order_lookup_is_announced_and_the_words_played_while_it_runs() -> None:
    events = events_for("Where is order 4572?", backend_s=3)

    kinds = [type(event).__name__ for event in events]
    assert kinds == ["TextDelta", "ToolStarted", "ToolEvent", "TextDelta"]
    assert isinstance(events[0], TextDelta) and events[0].text.strip() == CHECKING
    assert isinstance(events[3], TextDelta) and events[3].text.startswith("Order 4 5 7 2")


def test_a_quick_order_lookup_is_not_announced() -> None:
    events = events_for("Where is order 4572?", backend_s=0.05)

    assert [type(event).__name__ for event in events] == ["ToolEvent", "TextDelta"]
