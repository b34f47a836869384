"""Twilio's AMD verdict posted to another instance than the one holding the call's stream: it
goes through the shared store, and the stream's instance leaves the voicemail message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bridge.demo.local import LocalBridge, local_bridge
from bridge.records import CallRecord
from bridge.sim.callee import Callee, CalleePlayer
from bridge.sim.calls import fresh_credentials
from bridge.speech.factory import load_speech
from tests.e2e.pace import SPEED
from tests.support.bridges import bridge_settings

CALLEE = "+12125551000"
VARIABLES = {"name": "Dana", "order_id": "4572"}


@pytest.fixture
async def two_bridges(tmp_path: Path) -> AsyncIterator[tuple[LocalBridge, LocalBridge]]:
    """Two instances of one deployment: the same credentials and the same store."""
    credentials = fresh_credentials()
    settings = [
        bridge_settings(
            tmp_path, STT_PROVIDER="instant", TTS_PROVIDER="instant", BRIDGE_INSTANCE_ID=name
        )
        for name in ("a", "b")
    ]
    speech = load_speech(settings[0])
    try:
        async with AsyncExitStack() as stack:
            a, b = [
                await stack.enter_async_context(local_bridge(s, speech, credentials))
                for s in settings
            ]
            yield a, b
    finally:
        speech.close()


async def closed(bridge: LocalBridge, call_sid: str) -> CallRecord:
    for _ in range(300):
        record = await bridge.services.store.get(call_sid)
        if record is not None and record.status != "active":
            return record
        await asyncio.sleep(0.05)
    raise AssertionError(f"call {call_sid} never ended: {record}")


async def test_a_verdict_posted_to_another_instance_reaches_the_one_holding_the_stream(
    two_bridges: tuple[LocalBridge, LocalBridge],
) -> None:
    a, b = two_bridges
    api = a.twilio.api
    api.player = CalleePlayer(
        a.twilio.account_sid,
        a.twilio.auth_token,
        a.services.speech.caller_tts,
        speed=SPEED,
        admin_token=a.twilio.admin_token,
    )
    api.player.callees[CALLEE] = Callee(kind="voicemail", ring_ms=300)
    placed_record = await a.services.dial("acme", CALLEE, VARIABLES)
    placed = api.placed[placed_record.call_sid]
    # The load balancer sends the AMD callback to b; the media stream stays with a.
    placed.params["AsyncAmdStatusCallback"] = f"{b.twilio.bridge_url}/twilio/amd"
    await asyncio.wait_for(placed.done.wait(), timeout=60)
    record = await closed(a, placed.call_sid)

    assert record.instance_id == "a" and not b.services.live
    assert (record.answered_by, record.outcome) == ("machine_end_beep", "voicemail_left")
    message = record.turns[-1]
    assert message.heard.startswith("Hi Dana, this is Acme Outfitters about your order 4572")
    assert placed.beep_ended_at is not None and message.started_at >= placed.beep_ended_at
    assert api.actions(placed.call_sid)[-1]["params"] == {"Status": "completed"}
