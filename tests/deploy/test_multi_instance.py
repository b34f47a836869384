"""Two bridge processes on one PostgreSQL behind nginx: calls, cross-instance callbacks, a drain.

The Twilio side lives in this process: simulated callers dial nginx, and the bridges' REST
calls go to a FakeTwilioApi here. The bridges use instant speech (no models), the callers
speak with the local piper voice, so the bridges' VAD hears real speech.

Timeline: wave 1 reaches both instances; instance b is drained (SIGTERM) while it holds
calls; wave 2 and a held call go through nginx meanwhile; b finishes its calls, exits and
comes back under the same name while a still holds the held call; then every call's status
callback is sent to the instance that did NOT hold it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bridge.config import Settings
from bridge.records import CallRecord
from bridge.sim.caller import SimulatedCaller
from bridge.sim.calls import TwilioSide, fresh_credentials
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.sim.report import CallReport
from bridge.sim.script import Say
from bridge.speech.factory import SpeechModels
from bridge.store import CallStore, open_store
from bridge.twilio.signature import sign_request
from tests.deploy.cluster import REPO, BridgeProcess, Nginx
from tests.support.postgres import PostgresCluster, fresh_database
from tests.support.twilio_side import live_stream

pytestmark = pytest.mark.models

SPEED = 3.0
WAVE_1 = 4
WAVE_2 = 3
SCRIPT = [Say("What time do you open tomorrow?"), Say("And on Saturday?")]


class Deployment:
    def __init__(self, tmp_path: Path, dsn: str, api: FakeTwilioApi, twilio: TwilioSide) -> None:
        self.api = api
        self.twilio = twilio
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "OPENAI_"))},
            "HF_HUB_OFFLINE": "1",
            "PUBLIC_BASE_URL": twilio.bridge_url,
            "TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_API_BASE_URL": api.url,
            "BRIDGE_ADMIN_TOKEN": twilio.admin_token,
            "DATABASE_URL": dsn,
            "DIALPLANS_DIR": str(REPO / "dialplans"),
            "BRIDGE_DATA_DIR": str(tmp_path / "data"),
            "STT_PROVIDER": "instant",
            "TTS_PROVIDER": "instant",
            "LOG_FORMAT": "json",
        }
        self.bridges = {
            name: BridgeProcess(name, env, tmp_path / f"bridge-{name}.log") for name in "ab"
        }

    def other(self, instance_id: str) -> BridgeProcess:
        return self.bridges["b" if instance_id == "a" else "a"]


@pytest.fixture
async def deployment(
    tmp_path: Path, postgres_cluster: PostgresCluster
) -> AsyncIterator[Deployment]:
    account_sid, auth_token = fresh_credentials()
    api = FakeTwilioApi(account_sid, auth_token)
    await api.start()
    nginx = Nginx(tmp_path / "nginx", backends=[])
    twilio = TwilioSide(nginx.url, account_sid, auth_token, secrets.token_hex(16), api)
    deployed = Deployment(tmp_path, fresh_database(postgres_cluster), api, twilio)
    nginx.backends = [bridge.port for bridge in deployed.bridges.values()]
    try:
        await asyncio.gather(*(bridge.start() for bridge in deployed.bridges.values()))
        await nginx.start()
        yield deployed
    except BaseException:
        for bridge in deployed.bridges.values():
            print(f"--- bridge {bridge.instance_id} log ---\n{bridge.log()[-6000:]}")
        raise
    finally:
        nginx.stop()
        for bridge in deployed.bridges.values():
            bridge.kill()
        await api.close()


def caller(deployed: Deployment, speech: SpeechModels) -> SimulatedCaller:
    twilio = deployed.twilio
    return SimulatedCaller(
        twilio.bridge_url,
        twilio.auth_token,
        twilio.account_sid,
        speech.caller_tts,
        speed=SPEED,
        admin_token=twilio.admin_token,
    )


async def holder(store: CallStore, call_sid: str) -> str:
    """The instance holding the call's media socket, once one does."""
    while True:
        record = await store.get(call_sid)
        if record is not None and record.instance_id:
            return record.instance_id
        await asyncio.sleep(0.05)


async def status_callback(
    deployed: Deployment, bridge: BridgeProcess, call_sid: str, status: str
) -> int:
    """Twilio's call status callback, signed for the public URL, delivered to `bridge`."""
    form = {"CallSid": call_sid, "AccountSid": deployed.twilio.account_sid, "CallStatus": status}
    signed_url = deployed.twilio.bridge_url + "/twilio/status"
    headers = {"X-Twilio-Signature": sign_request(deployed.twilio.auth_token, signed_url, form)}
    async with (
        aiohttp.ClientSession() as http,
        http.post(bridge.url + "/twilio/status", data=form, headers=headers) as response,
    ):
        return response.status


async def ring_without_answer(deployed: Deployment) -> str:
    """A call whose webhook ran (through nginx) but whose caller hung up before the stream."""
    call_sid = "CA" + secrets.token_hex(16)
    form = {"CallSid": call_sid, "From": "+15555550199", "To": "+15555550100"}
    url = deployed.twilio.bridge_url + "/twilio/voice"
    headers = {"X-Twilio-Signature": sign_request(deployed.twilio.auth_token, url, form)}
    async with aiohttp.ClientSession() as http, http.post(url, data=form, headers=headers) as resp:
        assert resp.status == 200
    return call_sid


def completed_with_transcript(record: CallRecord | None) -> bool:
    if record is None or record.status != "completed" or record.end_reason != "stop":
        return False
    spoken = [turn for turn in record.turns if turn.source == "speech"]
    return len(spoken) == len(SCRIPT) and all(turn.caller and turn.heard for turn in spoken)


async def test_two_instances_behind_nginx_share_calls_and_drain_without_dropping_one(
    deployment: Deployment, speech: SpeechModels, tmp_path: Path
) -> None:
    deployed = deployment
    b = deployed.bridges["b"]
    settings = Settings(_env_file=None, DATABASE_URL=b.env["DATABASE_URL"])  # type: ignore[call-arg]
    store = await open_store(settings)
    try:
        # Wave 1: nginx (least_conn) spreads the media sockets over both instances.
        wave_1 = [caller(deployed, speech) for _ in range(WAVE_1)]
        wave_1_runs = [asyncio.create_task(sim.run(SCRIPT)) for sim in wave_1]
        holders = {sim.call_sid: await holder(store, sim.call_sid) for sim in wave_1}
        on_b = [sid for sid, instance in holders.items() if instance == "b"]
        assert set(holders.values()) == {"a", "b"}

        # Drain b while it holds calls; new calls keep coming through nginx.
        b.drain()
        wave_2 = [caller(deployed, speech) for _ in range(WAVE_2)]
        wave_2_runs = [asyncio.create_task(sim.run(SCRIPT)) for sim in wave_2]
        async with live_stream(deployed.twilio) as held:
            assert await holder(store, held.call_sid) == "a"
            reports: list[CallReport] = await asyncio.gather(*wave_1_runs, *wave_2_runs)
            assert await b.exited() == 0

            # b comes back under its name while a holds a live call: that call stays a's.
            await b.start()
            held_record = await store.get(held.call_sid)
            assert held_record is not None and held_record.status == "active"
            held_sid = held.call_sid
        unanswered = await ring_without_answer(deployed)

        placed = [*wave_1, *wave_2]
        for sim in placed:
            assert await holder(store, sim.call_sid) in "ab"
        wave_2_holders = {await holder(store, sim.call_sid) for sim in wave_2}
        callbacks = [
            await status_callback(
                deployed, deployed.other(holders.get(sim.call_sid, "a")), sim.call_sid, "completed"
            )
            for sim in placed
        ]
        canceled = await status_callback(deployed, b, unanswered, "canceled")

        records = {sim.call_sid: await store.get(sim.call_sid) for sim in placed}
        held_final = await store.get(held_sid)
        unanswered_final = await store.get(unanswered)
    finally:
        await store.close()

    completed = [sid for sid, record in records.items() if completed_with_transcript(record)]
    dropped = [sid for sid in on_b if sid not in completed]
    print(
        f"\nmulti-instance: placed {len(placed)} calls (+1 held, +1 unanswered), "
        f"completed {len(completed)}, held by b at the drain {len(on_b)}, "
        f"dropped during the drain {len(dropped)}"
    )
    assert [report.status for report in reports] == ["completed"] * len(placed)
    assert len(completed) == len(placed)
    assert on_b and not dropped
    assert wave_2_holders == {"a"}
    assert callbacks == [204] * len(placed)
    assert held_final is not None and held_final.status == "completed"
    assert canceled == 204
    assert unanswered_final is not None
    assert (unanswered_final.status, unanswered_final.end_reason) == ("failed", "twilio: canceled")
