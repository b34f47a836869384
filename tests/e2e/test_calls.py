"""Whole calls through the simulator: webhook, media stream, speech, agent, tools, Twilio REST."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import pytest

from bridge.demo.local import LocalBridge, local_bridge
from bridge.sim.calls import place_call
from bridge.sim.script import HangUp, Interrupt, PressKeys, Say
from bridge.speech.factory import SpeechModels
from bridge.twilio import messages
from tests.e2e.pace import SPEED
from tests.support.bridges import bridge_settings
from tests.support.twilio_side import live_stream

pytestmark = pytest.mark.models


async def call(bridge: LocalBridge, script, speech: SpeechModels, **options):
    return await place_call(bridge.twilio, script, speech.caller_tts, speed=SPEED, **options)


def tools_called(report) -> list:
    return [tool for turn in report.turns for tool in turn.tools]


async def test_order_status_call_reads_the_order_from_the_orders_file(
    bridge: LocalBridge, speech: SpeechModels, tmp_path: Path
) -> None:
    report = await call(
        bridge,
        [Say("I'd like to check on my order."), Say("It's order 4 5 7 2.")],
        speech,
        recordings_dir=tmp_path,
        caller="+15035550142",  # the order's own phone: no verification asked
    )
    tools = tools_called(report)
    assert [tool.name for tool in tools] == ["check_order_status"]
    assert tools[0].arguments["order_id"] == "4572"
    assert tools[0].result["status"] == "shipped"
    assert "shipped" in report.turns[-1].heard.lower()
    assert report.status == "completed"
    assert os.path.getsize(report.recording) > 44
    assert report.twilio_actions == []


async def test_transfer_makes_exactly_one_rest_update_with_the_dial(
    bridge: LocalBridge, speech: SpeechModels
) -> None:
    report = await call(
        bridge, [Say("Can you put me through to the billing department, please?")], speech
    )
    assert [tool.name for tool in tools_called(report)] == ["transfer_call"]
    assert len(report.twilio_actions) == 1
    action = report.twilio_actions[0]
    assert action["method"] == "POST"
    assert action["path"].endswith(f"/Calls/{report.call_sid}.json")
    twiml = action["params"]["Twiml"]
    assert 'callerId="+15555550100"' in twiml and 'timeout="20"' in twiml
    assert "/twilio/dial-action?department=billing" in twiml
    assert "<Number>+15555550130</Number></Dial>" in twiml
    assert "<Say>" in twiml
    assert report.status == "transferred"


async def test_unknown_department_is_answered_in_speech_without_a_rest_call(
    bridge: LocalBridge, speech: SpeechModels
) -> None:
    report = await call(bridge, [Say("Transfer me to the legal department.")], speech)
    assert report.twilio_actions == []
    assert [tool.name for tool in tools_called(report)] in ([], ["transfer_call"])
    assert "billing" in report.turns[-1].heard.lower()


async def test_barge_in_clears_twilio_buffer_and_keeps_only_what_was_heard(
    tmp_path: Path, speech: SpeechModels, custom_dialplans: Path
) -> None:
    acme = custom_dialplans / "acme.yaml"
    long_greeting = (
        "Thanks for calling Acme Outfitters, the outdoor clothing and camping gear people. "
        "Our phone lines are open from eight in the morning to eight at night, Monday to "
        "Saturday, and returns are always free within sixty days of delivery. "
        "I can check on an order, or connect you with sales, support or billing."
    )
    text = acme.read_text().replace("greeting: >-", f"greeting: {long_greeting}\nold_greeting: >-")
    acme.write_text(_drop_key(text, "old_greeting"))
    async with local_bridge(bridge_settings(tmp_path, custom_dialplans), speech) as bridge:
        report = await call(
            bridge, [Interrupt("Sorry, the billing department please.", after_ms=1500)], speech
        )
    assert report.clears >= 1
    assert report.caller_lines[0].clear_ms is not None
    greeting = report.turns[0]
    assert greeting.source == "greeting"
    assert greeting.interrupted
    assert greeting.heard
    assert len(greeting.heard) < len(greeting.agent)
    assert greeting.agent.startswith(greeting.heard.split()[0])
    assert [tool.name for tool in tools_called(report)] == ["transfer_call"]


async def test_keyed_order_id_ending_in_hash_checks_the_order(
    bridge: LocalBridge, speech: SpeechModels
) -> None:
    report = await call(bridge, [PressKeys("813906#")], speech, caller="+12065550103")
    tools = tools_called(report)
    assert [tool.name for tool in tools] == ["check_order_status"]
    assert tools[0].arguments["order_id"] == "813906"
    assert tools[0].result["status"] == "delivered"


async def test_a_mapped_key_transfers_at_once(bridge: LocalBridge, speech: SpeechModels) -> None:
    report = await call(bridge, [PressKeys("0")], speech)
    assert len(report.twilio_actions) == 1
    assert (
        "<Sip>sip:support@acme-outfitters.sip.twilio.com?X-CallSid="
        in (report.twilio_actions[0]["params"]["Twiml"])
    )
    assert report.status == "transferred"


async def test_goodbye_hangs_up_after_the_goodbye_has_played(
    bridge: LocalBridge, speech: SpeechModels
) -> None:
    report = await call(bridge, [Say("No, that's all. Bye!")], speech)
    assert [tool.name for tool in tools_called(report)] == ["end_call"]
    assert [action["params"] for action in report.twilio_actions] == [{"Status": "completed"}]
    assert "goodbye" in report.turns[-1].heard.lower()


async def test_caller_hanging_up_mid_reply_leaves_no_task_running(
    bridge: LocalBridge, speech: SpeechModels
) -> None:
    report = await call(bridge, [HangUp(after_ms=400)], speech)
    await asyncio.sleep(0.2)
    leftovers = [
        task.get_name()
        for task in asyncio.all_tasks()
        if report.call_sid in task.get_name() and not task.done()
    ]
    assert leftovers == []
    assert bridge.services.live == {}
    assert report.status == "completed"
    assert report.turns[0].interrupted is False or report.turns[0].heard != report.turns[0].agent


def _drop_key(yaml_text: str, key: str) -> str:
    """Remove a top-level block key and its folded lines from a YAML document."""
    lines, out, skipping = yaml_text.splitlines(), [], False
    for line in lines:
        if line.startswith(f"{key}:"):
            skipping = True
            continue
        if skipping and line.startswith("  "):
            continue
        skipping = False
        out.append(line)
    return "\n".join(out) + "\n"


async def test_malformed_frame_is_logged_and_the_call_goes_on(
    bridge: LocalBridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    async with live_stream(bridge.twilio) as stream:
        await stream.ws.send_str('{"event": "media", "media": ')  # cut short
        await stream.ws.send_str("[1, 2, 3]")
        await stream.ws.send_str(messages.dtmf_message(stream.stream_sid, 3, "0"))
        update = await asyncio.wait_for(bridge.twilio.api.wait_for_update(stream.call_sid), 10)
    assert "<Dial" in update["Twiml"]
    assert "malformed frame" in caplog.text
