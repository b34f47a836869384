"""When nobody can take the call: the caller leaves a message or asks for a call back, with
the rules agent (it asks, the next turn is the message) or any agent through the
`take_message` tool; what was taken is on the record, in `bridge calls show`, the console's
call page and the after-call webhook."""

from __future__ import annotations

import json

from bridge.agent.base import CallContext
from bridge.agent.tools import ToolExecutor, tool_specs
from bridge.call.after_call import payload
from bridge.call.wrap_up import rules_wrap_up
from bridge.console.call_view import call_detail
from bridge.records import CallRecord, ToolCallRecord, TurnRecord, messages_of
from bridge.store.report import transcript
from tests.agent.test_rules_agent import ACME, Caller, calls
from tests.support.call_control import RecordingControl


async def test_the_rules_agent_takes_a_call_back_request() -> None:
    caller = Caller()
    reply, tools = await caller.says("Nobody answers. Can someone call me back?")
    assert tools == [] and reply == "Of course. What should they call you back about?"
    reply, tools = await caller.says("My refund for the tent, after five please.")
    said = "My refund for the tent, after five please."
    # "refund" is one of billing's synonyms: the request is for billing.
    assert calls(tools) == [
        ("take_message", {"kind": "callback", "message": said, "department": "billing"})
    ]
    assert tools[0].result["callback_number"] == "+15035550142"  # the number calling
    assert reply == (
        "Thanks. Someone will call you back at 1 5 0 3 5 5 5 0 1 4 2. "
        "Is there anything else I can help with?"
    )


async def test_the_rules_agent_takes_a_message_for_a_department() -> None:
    caller = Caller()
    reply, _ = await caller.says("I'd like to leave a message.")
    assert reply == "Of course. What message should I pass on, and who is it for?"
    reply, tools = await caller.says("For billing: invoice 7 was charged twice.")
    assert [tool.arguments.get("department") for tool in tools] == ["billing"]
    assert tools[0].result == {
        "ok": True,
        "kind": "message",
        "message": "For billing: invoice 7 was charged twice.",
    }
    assert reply.startswith("Thanks, I've taken your message and will pass it on.")


async def test_the_tool_checks_what_it_is_given() -> None:
    context = CallContext(call_sid="CA1", caller="anonymous", called="+15555550100")
    tools = ToolExecutor(ACME, RecordingControl(), None, context)
    no_number = await tools.run("take_message", {"kind": "callback", "message": "hi"})
    assert no_number.result == {"error": "no number to call back: ask the caller for one"}
    given = {"kind": "callback", "message": "hi", "callback_number": "+1 503 555 0199"}
    assert (await tools.run("take_message", given)).result["callback_number"] == "+1 503 555 0199"
    bad = await tools.run("take_message", {"kind": "fax", "message": "hi"})
    assert bad.result["error"].startswith("invalid arguments: kind:")
    closed = ACME.model_copy(update={"take_messages": False})
    assert "take_message" not in [spec.name for spec in tool_specs(closed)]
    refused = await ToolExecutor(closed, RecordingControl(), None, context).run(
        "take_message", {"kind": "message", "message": "hi"}
    )
    assert refused.result == {"error": "this line takes no messages"}


def test_a_message_taken_is_on_the_record_pages_and_webhook() -> None:
    taken = ToolCallRecord(
        name="take_message",
        arguments={"kind": "callback", "message": "Refund please", "department": "billing"},
        result={"ok": True, "kind": "callback", "callback_number": "+15035550142"},
    )
    failed = ToolCallRecord(name="take_message", arguments={"kind": "callback"}, result={})
    turn = TurnRecord(index=0, caller="Refund please", tools=[taken, failed])
    record = CallRecord(call_sid="CA9", dialplan="acme", status="completed", turns=[turn])

    [message] = messages_of(record)
    assert (message.kind, message.department, message.callback_number) == (
        "callback",
        "billing",
        "+15035550142",
    )
    notes = rules_wrap_up(
        record, ACME.after_call.model_copy(update={"dispositions": ["resolved", "callback"]})
    )
    assert notes.disposition == "callback"
    sent = json.loads(payload(record, notes, None))
    assert [m["message"] for m in sent["messages"]] == ["Refund please"]
    assert "callback for billing (call back +15035550142): Refund please" in transcript(record)
    assert "call back +15035550142" in call_detail(record, None)
