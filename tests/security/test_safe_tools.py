"""Tools an agent (or a caller talking to it) cannot turn against the business or a customer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bridge.agent.base import (
    CallContext,
    CallerTurn,
    Message,
    TextDelta,
    ToolEvent,
)
from bridge.agent.orders import open_order_lookup
from bridge.agent.rules import RulesAgent
from bridge.agent.tools import ToolExecutor, tool_specs
from bridge.agent.verification import MAX_VERIFICATION_FAILURES
from bridge.dialplan.loader import load_dialplans
from bridge.dialplan.models import Dialplan
from tests.support.call_control import RecordingControl

ACME = load_dialplans(Path(__file__).resolve().parents[2] / "dialplans").for_number("+15555550100")
STRANGER = "+15555550123"  # on no order
CUSTOMER = "+15035550142"  # on orders 4572, 1024 and 88310 (ZIP 97205)


def tools_for(caller: str, dialplan: Dialplan = ACME, control: RecordingControl | None = None):
    context = CallContext(call_sid="CA1", caller=caller, called="+15555550100")
    return ToolExecutor(
        dialplan, control or RecordingControl(), open_order_lookup(dialplan.orders), context
    )


async def check(tools: ToolExecutor, **arguments: str) -> dict[str, Any]:
    return (await tools.run("check_order_status", arguments)).result


@pytest.mark.parametrize("target", ["+19005550199", "sip:evil@example.com", "billing +1900"])
async def test_transfer_to_a_number_the_model_made_up_is_refused(target: str) -> None:
    control = RecordingControl()
    event = await tools_for(CUSTOMER, control=control).run("transfer_call", {"department": target})
    assert event.result["error"] == "unknown department"
    assert control.attempts == [] and not event.transferred


async def test_transfer_tool_offers_only_dialplan_departments() -> None:
    spec = next(s for s in tool_specs(ACME) if s.name == "transfer_call")
    assert spec.json_schema()["properties"]["department"]["enum"] == list(ACME.departments)


async def test_the_customer_hears_their_order_without_questions() -> None:
    result = await check(tools_for(CUSTOMER), order_id="4572")
    assert result["found"] and result["status"] == "shipped"


async def test_a_stranger_gets_no_order_details_without_the_zip() -> None:
    result = await check(tools_for(STRANGER), order_id="4572")
    assert result == {
        "order_id": "4572",
        "error": "verification required",
        "verification": "zip",
        "ask_for": "the ZIP code of the delivery address",
    }


async def test_a_stranger_with_the_right_zip_hears_the_order() -> None:
    result = await check(tools_for(STRANGER), order_id="4572", verification="97 205")
    assert result["found"] and result["status"] == "shipped"
    assert "zip" not in result and "phone" not in result


async def test_wrong_zips_run_out_and_then_even_the_right_one_is_refused() -> None:
    tools = tools_for(STRANGER)
    for left in range(MAX_VERIFICATION_FAILURES - 1, -1, -1):
        result = await check(tools, order_id="4572", verification="10001")
        assert result["error"] == "verification failed" and result["attempts_left"] == left
    result = await check(tools, order_id="4572", verification="97205")
    assert result["error"].startswith("too many failed verifications")
    assert "status" not in result


async def test_without_verification_configured_only_the_orders_phone_may_hear_it() -> None:
    assert ACME.orders is not None
    strict = ACME.model_copy(
        update={"orders": ACME.orders.model_copy(update={"verification": None})}
    )
    result = await check(tools_for(STRANGER, strict), order_id="4572", verification="97205")
    assert result["error"].startswith("not allowed") and "status" not in result


async def test_a_zip_for_one_order_does_not_open_another() -> None:
    # 97205 is the ZIP of 4572's customer; 813906 belongs to someone in 98101.
    result = await check(tools_for(STRANGER), order_id="813906", verification="97205")
    assert result["error"] == "verification failed" and "status" not in result


async def converse(caller: str, lines: list[tuple[str, str]]) -> list[str]:
    """The rules agent's replies to `lines`, history kept as the call session keeps it."""
    agent = RulesAgent(ACME, tools_for(caller))
    history: list[Message] = [Message(role="agent", text=ACME.greeting)]
    replies = []
    for text, source in lines:
        history.append(Message(role="caller", text=text))
        turn = CallerTurn(text=text, source=source)  # type: ignore[arg-type]
        reply = ""
        async for event in agent.respond(list(history), turn):
            if isinstance(event, TextDelta):
                reply += event.text
            elif isinstance(event, ToolEvent):
                history.extend(event.messages)
        history.append(Message(role="agent", text=reply))
        replies.append(reply)
    return replies


async def test_rules_agent_asks_a_stranger_for_the_zip_then_reads_the_order() -> None:
    asked, answered = await converse(
        STRANGER, [("Where is order 4572?", "speech"), ("It's nine seven two oh five.", "speech")]
    )
    assert "ZIP code" in asked and "shipped" not in asked
    assert "has shipped" in answered


async def test_rules_agent_takes_a_keyed_zip_and_refuses_a_wrong_one() -> None:
    _, reply = await converse(STRANGER, [("order 813906", "speech"), ("(keyed) 97205#", "dtmf")])
    assert reply.startswith("Sorry, that doesn't match the order.")
    assert "delivered" not in reply


async def test_failed_transfer_falls_back_with_a_spoken_apology() -> None:
    dialplan = ACME.model_copy(update={"transfer_fallback": "support"})
    control = RecordingControl(failures=1)
    event = await tools_for(CUSTOMER, dialplan, control).run(
        "transfer_call", {"department": "billing"}
    )
    assert event.transferred
    assert event.result == {"ok": True, "department": "support", "fallback_from": "billing"}
    assert [a["target"] for a in control.attempts] == [
        "+15555550130",
        "sip:support@acme-outfitters.sip.twilio.com",
    ]
    assert control.attempts[1]["announcement"].startswith("Sorry, I couldn't reach billing.")


async def test_when_the_fallback_fails_too_the_transfer_is_an_error() -> None:
    dialplan = ACME.model_copy(update={"transfer_fallback": "support"})
    event = await tools_for(CUSTOMER, dialplan, RecordingControl(failures=2)).run(
        "transfer_call", {"department": "billing"}
    )
    assert not event.transferred and "fallback to support failed" in event.result["error"]
