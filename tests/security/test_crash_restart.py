"""A whole `bridge serve` process killed mid-call (SIGKILL) and started again: the call's
record is closed as interrupted and keeps every turn finished before the crash."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.config import Settings
from bridge.records import CallRecord
from bridge.sim.caller import SimulatedCaller
from bridge.sim.calls import fresh_credentials
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.sim.script import Say
from bridge.speech.factory import SpeechModels
from bridge.store import CallStore, open_store
from tests.deploy.cluster import BridgeProcess
from tests.support.bridges import REPO

pytestmark = pytest.mark.models

WAIT_S = 90.0


@pytest.fixture
async def fake_twilio() -> AsyncIterator[tuple[FakeTwilioApi, str, str]]:
    account_sid, auth_token = fresh_credentials()
    api = FakeTwilioApi(account_sid, auth_token)
    await api.start()
    yield api, account_sid, auth_token
    await api.close()


async def record_when(
    store: CallStore, call_sid: str, ready: object, timeout_s: float = WAIT_S
) -> CallRecord:
    """Poll the store (another process writes it) until `ready(record)` holds."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        record = await store.get(call_sid)
        if record is not None and ready(record):  # type: ignore[operator]
            return record
        await asyncio.sleep(0.2)
    raise AssertionError(f"record of {call_sid} never got there: {await store.get(call_sid)}")


def order_checked(record: CallRecord) -> bool:
    return any(tool.name == "check_order_status" for turn in record.turns for tool in turn.tools)


async def test_sigkill_mid_call_then_restart_closes_the_record_as_interrupted(
    tmp_path: Path, speech: SpeechModels, fake_twilio: tuple[FakeTwilioApi, str, str]
) -> None:
    api, account_sid, auth_token = fake_twilio
    data = tmp_path / "data"
    server = BridgeProcess("crash-test", {}, tmp_path / "bridge.log")
    server.env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PUBLIC_BASE_URL": server.url,
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_API_BASE_URL": api.url,
        "BRIDGE_ADMIN_TOKEN": secrets.token_hex(16),
        "DIALPLANS_DIR": str(REPO / "dialplans"),
        "BRIDGE_DATA_DIR": str(data),
    }
    await server.start()
    store = await open_store(Settings(_env_file=None, BRIDGE_DATA_DIR=data))  # type: ignore[call-arg]
    caller = SimulatedCaller(
        server.url,
        auth_token,
        account_sid,
        speech.caller_tts,
        caller="+15035550142",
        speed=2.0,
    )
    script = [
        Say("I'd like to check on my order."),
        Say("It's order 4 5 7 2."),
        Say("Thanks. What are your opening hours? Then put me through to the billing department."),
    ]
    talking = asyncio.create_task(caller.run(script))
    try:
        before = await record_when(store, caller.call_sid, order_checked)
        server.kill()  # SIGKILL: no shutdown code runs
        assert before.status == "active"
        await asyncio.gather(talking, return_exceptions=True)
        await server.start()  # same data directory, same instance: the restart tidies up
        after = await record_when(store, caller.call_sid, lambda r: r.status != "active")
    finally:
        talking.cancel()
        await asyncio.gather(talking, return_exceptions=True)
        server.kill()
        await store.close()
    print(f"crash: {len(before.turns)} turns before SIGKILL, {len(after.turns)} after restart")
    assert after.status == "interrupted"
    assert len(after.turns) >= len(before.turns) >= 2
    assert [t.caller for t in after.turns[: len(before.turns)]] == [t.caller for t in before.turns]
    assert order_checked(after)
    order = next(tool for turn in after.turns for tool in turn.tools)
    assert order.result["status"] == "shipped"
