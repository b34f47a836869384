"""Tool specs and the executor, on the shipped Acme dialplan and its CSV orders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.agent.base import CallContext
from bridge.agent.departments import DepartmentNames
from bridge.agent.orders import OrderBackendError, open_order_lookup
from bridge.agent.tools import ToolExecutor, tool_specs
from bridge.dialplan.loader import load_dialplans
from bridge.dialplan.models import Dialplan
from tests.support.call_control import RecordingControl

DIALPLANS = Path(__file__).resolve().parents[2] / "dialplans"
ACME = load_dialplans(DIALPLANS).for_number("+15555550100")
CONTEXT = CallContext(call_sid="CA1", caller="+15035550142", called="+15555550100")


class DownBackend:
    async def find(self, order_id: str) -> None:
        raise OrderBackendError("connection refused")


def executor(
    control: RecordingControl, dialplan: Dialplan = ACME, context: CallContext = CONTEXT
) -> ToolExecutor:
    return ToolExecutor(dialplan, control, open_order_lookup(dialplan.orders), context)


def test_specs_offer_the_dialplan_departments_as_an_enum() -> None:
    specs = {spec.name: spec for spec in tool_specs(ACME)}
    assert set(specs) == {"transfer_call", "check_order_status", "take_message", "end_call"}
    schema = specs["transfer_call"].json_schema()
    assert schema["properties"]["department"]["enum"] == ["sales", "support", "billing"]
    assert schema["required"] == ["department"]
    assert schema["additionalProperties"] is False
    assert "invoice" in specs["transfer_call"].description
    assert "title" not in json.dumps(schema)
    assert specs["end_call"].json_schema()["properties"] == {}


def test_specs_leave_out_tools_the_line_cannot_serve() -> None:
    bare = Dialplan(name="bare", take_messages=False)
    assert [spec.name for spec in tool_specs(bare)] == ["end_call"]


@pytest.mark.parametrize("said", ["billing", "Billing", "  BILLING ", "accounts", "the invoice"])
async def test_transfer_by_name_or_synonym_reaches_call_control(said: str) -> None:
    control = RecordingControl()
    event = await executor(control).run("transfer_call", {"department": said})
    assert (event.transferred, event.result) == (True, {"ok": True, "department": "billing"})
    assert control.transfers == [
        {
            "target": "+15555550130",
            "caller_id": "+15555550100",
            "announcement": "Transferring you to billing.",
            "department": "billing",
            "ring_timeout_s": 20,
            "reason": "caller asked for billing",
            "warm": False,
        }
    ]


async def test_transfer_uses_the_department_announcement_and_sip_target() -> None:
    control = RecordingControl()
    await executor(control).run("transfer_call", {"department": "help desk"})
    await executor(control).run("transfer_call", {"department": "Sales team"})
    assert [(t["target"], t["announcement"]) for t in control.transfers] == [
        ("sip:support@acme-outfitters.sip.twilio.com", "Transferring you to support."),
        ("+15555550110", "Connecting you to Acme sales."),
    ]


async def test_caller_id_falls_back_to_the_called_number_only_when_dialable() -> None:
    plan = ACME.model_copy(update={"caller_id": None})
    control = RecordingControl()
    await executor(control, plan).run("transfer_call", {"department": "sales"})
    sip_call = CallContext(call_sid="CA2", caller="sip:a@b", called="sip:shop@acme.sip.twilio.com")
    await executor(control, plan, sip_call).run("transfer_call", {"department": "sales"})
    assert [t["caller_id"] for t in control.transfers] == ["+15555550100", None]


async def test_unknown_department_lists_the_known_ones_and_does_not_transfer() -> None:
    control = RecordingControl()
    event = await executor(control).run("transfer_call", {"department": "legal"})
    assert event.result == {
        "error": "unknown department",
        "departments": ["sales", "support", "billing"],
    }
    assert not event.transferred and control.transfers == []


async def test_failed_transfer_is_an_error_result_not_a_transfer() -> None:
    event = await executor(RecordingControl(failures=1)).run(
        "transfer_call", {"department": "sales"}
    )
    assert not event.transferred
    assert "Twilio answered 500" in event.result["error"]


@pytest.mark.parametrize(
    "arguments", [{}, {"department": ""}, {"department": 7}, {"department": "sales", "x": 1}]
)
async def test_invalid_arguments_are_an_error_without_side_effects(
    arguments: dict[str, Any],
) -> None:
    control = RecordingControl()
    event = await executor(control).run("transfer_call", arguments)
    assert event.result["error"].startswith("invalid arguments")
    assert control.transfers == [] and not event.transferred


@pytest.mark.parametrize("said", ["4572", "#4,572", "four five seven two", " 4572 "])
async def test_check_order_status_finds_the_order_however_the_id_was_written(said: str) -> None:
    event = await executor(RecordingControl()).run("check_order_status", {"order_id": said})
    assert event.result == {
        "found": True,
        "order_id": "4572",
        "status": "shipped",
        "item": "Trailblazer 2 tent",
        "carrier": "UPS",
        "eta": "2025-06-14",
        "caller_is_customer": True,
    }


async def test_order_result_never_carries_the_customers_phone_or_zip() -> None:
    event = await executor(RecordingControl()).run("check_order_status", {"order_id": "88310"})
    assert event.result["found"] and event.result["caller_is_customer"] is True
    assert "phone" not in event.result and "zip" not in event.result


async def test_unknown_order_is_an_error_result() -> None:
    event = await executor(RecordingControl()).run("check_order_status", {"order_id": "1111"})
    assert event.result == {"error": "order not found", "order_id": "1111"}


async def test_backend_failure_is_an_error_result() -> None:
    tools = ToolExecutor(ACME, RecordingControl(), DownBackend(), CONTEXT)
    event = await tools.run("check_order_status", {"order_id": "4572"})
    assert "not answering" in event.result["error"]


async def test_order_lookup_without_a_backend_is_an_error_result() -> None:
    tools = ToolExecutor(Dialplan(name="bare"), RecordingControl(), None, CONTEXT)
    event = await tools.run("check_order_status", {"order_id": "4572"})
    assert "not available" in event.result["error"]


async def test_end_call_asks_the_session_to_hang_up_after_the_goodbye() -> None:
    control = RecordingControl()
    event = await executor(control).run("end_call", {})
    assert (event.result, event.ends_call, event.transferred) == ({"ok": True}, True, False)
    assert control.hang_ups == 0  # the session hangs up once the goodbye has played


async def test_unknown_tool_is_an_error_result() -> None:
    event = await executor(RecordingControl()).run("format_disk", {})
    assert event.result == {"error": "unknown tool 'format_disk'"}


async def test_call_id_adds_the_tool_call_and_result_to_history() -> None:
    event = await executor(RecordingControl()).run("end_call", {}, call_id="call_1")
    call, result = event.messages
    assert (call.role, call.tool_calls[0].id, call.tool_calls[0].name) == (
        "agent",
        "call_1",
        "end_call",
    )
    assert (result.role, result.tool_call_id, json.loads(result.text)) == (
        "tool",
        "call_1",
        {"ok": True},
    )


def test_department_in_a_sentence_prefers_a_name_said_outright() -> None:
    names = DepartmentNames(ACME.departments)
    assert names.find_in("I have a question about an invoice") == "billing"
    assert names.find_in("My tent pole is broken, can I get a refund?") == "support"
    assert names.find_in("Talk to sales about my payments please") == "sales"
    assert names.find_in("I'd like a quote, something broken on my account") == "sales"
    assert names.find_in("The weather is nice") is None


def test_a_department_name_missing_its_last_sound_still_finds_the_department() -> None:
    from bridge.agent.departments import DepartmentNames
    from bridge.dialplan.models import Department

    names = DepartmentNames(
        {
            "billing": Department(target="+15555550130"),
            "support": Department(target="+15555550120", synonyms=["help desk"]),
        }
    )
    assert names.find_in("Can you put me through to Billin?") == "billing"
    assert names.find_in("I need suport") == "support"
    assert names.find_in("Where is my order?") is None
    assert names.find_in("Can I speak to Bill?") is None
