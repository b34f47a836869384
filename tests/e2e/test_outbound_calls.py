"""Calls the bridge places: the real `twilio` client's `calls.create` on the fake Twilio API,
whose callee answers through the same protocol (webhook, media stream, AMD callback)."""

from __future__ import annotations

import asyncio

import pytest

from bridge.demo.local import LocalBridge
from bridge.records import CallRecord
from bridge.sim.callee import Callee, CalleePlayer, PlacedCall
from bridge.sim.script import Say
from bridge.speech.factory import SpeechModels
from tests.e2e.pace import SPEED

pytestmark = pytest.mark.models

ORDER_PHONE = "+15035550142"  # order 4572's own phone: the agent may read it out
VARIABLES = {"name": "Dana", "order_id": "4572"}


async def dial(
    bridge: LocalBridge, speech: SpeechModels, callee: Callee, to: str = ORDER_PHONE
) -> tuple[PlacedCall, CallRecord]:
    twilio = bridge.twilio
    player = CalleePlayer(
        twilio.account_sid,
        twilio.auth_token,
        speech.caller_tts,
        speed=SPEED,
        admin_token=twilio.admin_token,
    )
    player.callees[to] = callee
    twilio.api.player = player
    record = await bridge.services.dial("acme", to, VARIABLES)
    placed = twilio.api.placed[record.call_sid]
    await asyncio.wait_for(placed.done.wait(), timeout=90)
    return placed, await settled(bridge, record.call_sid)


async def settled(bridge: LocalBridge, call_sid: str) -> CallRecord:
    """The record once closed with an outcome (the last callbacks land after the callee)."""
    for _ in range(100):
        record = await bridge.services.store.get(call_sid)
        assert record is not None
        if record.status != "active" and record.outcome:
            return record
        await asyncio.sleep(0.05)
    return record


async def test_outbound_call_to_a_person_opens_with_its_line_runs_a_tool_and_hangs_up(
    bridge: LocalBridge, speech: SpeechModels
) -> None:
    person = Callee(
        lines=(Say("Yes, this is Dana. Has order 4 5 7 2 shipped yet?"), Say("Great, goodbye.")),
    )
    placed, record = await dial(bridge, speech, person)
    create = bridge.twilio.api.actions()[0]["params"]
    assert create["MachineDetection"] == "DetectMessageEnd"
    assert create["AsyncAmd"] == "true"
    assert create["Url"].startswith(bridge.twilio.bridge_url + "/twilio/voice?outbound=")
    assert record.direction == "outbound"
    assert record.outcome == "human"
    assert record.answered_by == "human"
    assert record.turns[0].source == "greeting"
    assert record.turns[0].agent.startswith("Hi Dana, this is Acme Outfitters")
    tools = [tool.name for turn in record.turns for tool in turn.tools]
    assert "check_order_status" in tools
    assert tools[-1] == "end_call"
    hang_up = bridge.twilio.api.actions(record.call_sid)[-1]
    assert hang_up["params"] == {"Status": "completed"}
    assert placed.report is not None and placed.report.status == "completed"


async def test_outbound_call_to_a_voicemail_leaves_the_message_after_the_beep(
    bridge: LocalBridge, speech: SpeechModels
) -> None:
    placed, record = await dial(bridge, speech, Callee(kind="voicemail"))
    assert record.outcome == "voicemail_left"
    assert record.answered_by == "machine_end_beep"
    message = record.turns[-1]
    assert message.heard.startswith("Hi Dana, this is Acme Outfitters about your order 4572")
    assert message.heard.endswith("Goodbye.")  # played whole: the machine's tail cut nothing
    assert placed.beep_ended_at is not None
    assert message.started_at >= placed.beep_ended_at
    hang_up = bridge.twilio.api.actions(record.call_sid)[-1]
    assert hang_up["params"] == {"Status": "completed"}
