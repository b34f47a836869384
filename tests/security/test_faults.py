"""Injected Twilio and provider faults in whole calls through the simulator, and a shutdown
that ends live calls politely. Every call's record must survive whatever failed."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from bridge.audio.wav import write_wav
from bridge.demo.local import LocalBridge, local_bridge
from bridge.services import SHUTDOWN_GOODBYE
from bridge.sim.calls import place_call
from bridge.sim.report import CallReport
from bridge.sim.script import PlayAudio, PressKeys, Say, Step
from bridge.speech.factory import SpeechModels
from tests.support.bridges import REPO, bridge_settings

pytestmark = pytest.mark.models

SPEED = 3.0
BILLING = "Can you put me through to the billing department, please?"


def billing_then_silence(tmp_path: Path) -> list[Step]:
    """Ask for billing, then stay on the line (silent) while the transfer is retried."""
    silence = tmp_path / "pause.wav"
    write_wav(silence, bytes(8000 * 2 * 2), 8000)
    return [Say(BILLING), PlayAudio(silence)]


def dialplans_with(tmp_path: Path, extra_yaml: str) -> Path:
    """The shipped dialplans, with `extra_yaml` appended to Acme's."""
    target = tmp_path / "dialplans"
    shutil.copytree(REPO / "dialplans", target)
    acme = target / "acme.yaml"
    acme.write_text(acme.read_text() + extra_yaml)
    return target


async def call(bridge: LocalBridge, script: list[Step], speech: SpeechModels) -> CallReport:
    report = await place_call(bridge.twilio, script, speech.caller_tts, speed=SPEED)
    record = await bridge.services.store.get(report.call_sid)
    assert record is not None and record.status != "active"  # nothing lost, nothing left open
    return report.model_copy(update={"turns": record.turns})


async def test_transfer_failing_after_retries_falls_back_with_an_apology(
    tmp_path: Path, speech: SpeechModels
) -> None:
    dialplans = dialplans_with(tmp_path, "transfer_fallback: support\n")
    async with local_bridge(bridge_settings(tmp_path, dialplans), speech) as bridge:
        bridge.twilio.api.fail_next(3)  # every retry of the billing transfer
        report = await call(bridge, billing_then_silence(tmp_path), speech)
    statuses = [action.get("status") for action in bridge.twilio.api.actions(report.call_sid)]
    assert statuses == [500, 500, 500, 200]
    fallback = report.twilio_actions[-1]["params"]["Twiml"]
    assert "Sorry, I couldn't reach billing." in fallback
    assert "<Sip>sip:support@acme-outfitters.sip.twilio.com?X-CallSid=" in fallback
    assert report.status == "transferred"
    tools = [tool for turn in report.turns for tool in turn.tools]
    assert tools[-1].result == {"ok": True, "department": "support", "fallback_from": "billing"}


async def test_transfer_and_its_fallback_both_failing_is_apologised_for_in_speech(
    tmp_path: Path, speech: SpeechModels
) -> None:
    dialplans = dialplans_with(tmp_path, "transfer_fallback: support\n")
    async with local_bridge(bridge_settings(tmp_path, dialplans), speech) as bridge:
        bridge.twilio.api.fail_next(6)
        report = await call(bridge, billing_then_silence(tmp_path), speech)
    assert len(report.twilio_actions) == 6
    # The apology, not necessarily last: the silent caller may be asked if they are still there.
    assert any("couldn't connect you" in turn.heard for turn in report.turns)
    assert report.status == "completed"


async def test_order_backend_down_is_told_to_the_caller(
    tmp_path: Path, speech: SpeechModels
) -> None:
    dialplans = dialplans_with(tmp_path, "")
    acme = dialplans / "acme.yaml"
    # A port nothing listens on: the provider is down for the whole call.
    acme.write_text(
        acme.read_text().replace(
            "  type: csv\n  path: data/acme-orders.csv\n",
            "  type: http\n  url: http://127.0.0.1:9/orders\n  timeout_s: 1\n",
        )
    )
    async with local_bridge(bridge_settings(tmp_path, dialplans), speech) as bridge:
        report = await call(bridge, [PressKeys("4572#")], speech)  # keys: no mishearing
    assert "can't reach our order system" in report.turns[-1].heard
    assert report.twilio_actions == []


async def test_shutdown_ends_a_live_call_with_a_goodbye_and_a_rest_hang_up(
    bridge: LocalBridge, speech: SpeechModels, tmp_path: Path
) -> None:
    silence = tmp_path / "silence.wav"
    write_wav(silence, bytes(8000 * 2 * 30), 8000)  # a caller who says nothing for 30 s
    placed = asyncio.create_task(
        place_call(bridge.twilio, [PlayAudio(silence)], speech.caller_tts, speed=SPEED)
    )
    while not bridge.services.live:  # noqa: ASYNC110 - the live map has no change signal
        await asyncio.sleep(0.05)
    bridge.services.draining = True
    await bridge.services.end_live_calls(timeout_s=20)
    report = await placed
    assert bridge.services.live == {}
    assert [a["params"] for a in report.twilio_actions] == [{"Status": "completed"}]
    goodbye = report.turns[-1]
    assert goodbye.agent == SHUTDOWN_GOODBYE and goodbye.heard
    assert report.status == "completed"
