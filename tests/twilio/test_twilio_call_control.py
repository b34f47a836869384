"""TwilioCallControl with the real `twilio` client against the local FakeTwilioApi."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
import pytest_asyncio
from twilio.rest import Client

from bridge.agent.base import CallControlError
from bridge.config import Settings
from bridge.records import TwilioAction
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.twilio.rest import TwilioCallControl, close_twilio_client, make_twilio_client

ACCOUNT = "AC" + "0" * 32
TOKEN = "fake_auth_token"
CALL = "CA" + "1" * 32
DIAL_ACTION = "https://bridge.example.com/twilio/dial-action"
CALL_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json"


@dataclass
class Rig:
    api: FakeTwilioApi
    client: Client
    reported: list[TwilioAction] = field(default_factory=list)

    def control(self, **options: float) -> TwilioCallControl:
        return TwilioCallControl(
            self.client,
            CALL,
            self.reported.append,
            dial_action_url=DIAL_ACTION,
            backoff_s=0.0,
            **options,  # type: ignore[arg-type]
        )


async def open_rig(token: str = TOKEN) -> tuple[FakeTwilioApi, Client]:
    api = FakeTwilioApi(ACCOUNT, TOKEN)
    await api.start()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        TWILIO_ACCOUNT_SID=ACCOUNT,
        TWILIO_AUTH_TOKEN=token,
        TWILIO_API_BASE_URL=api.url,
    )
    return api, make_twilio_client(settings)


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Rig]:
    api, client = await open_rig()
    yield Rig(api, client)
    await close_twilio_client(client)
    await api.close()


async def test_transfer_sends_dial_twiml_to_the_call(rig: Rig) -> None:
    await rig.control().transfer(
        "+15558675310", "+15017122661", "Connecting you to sales.", department="sales"
    )
    [action] = rig.api.actions(CALL)
    assert (action["method"], action["path"], action["status"]) == ("POST", CALL_PATH, 200)
    assert set(action["params"]) == {"Twiml"}
    root = ET.fromstring(action["params"]["Twiml"])
    assert [verb.tag for verb in root] == ["Say", "Dial"]
    assert root[1].attrib == {
        "callerId": "+15017122661",
        "action": DIAL_ACTION + "?department=sales",
        "method": "POST",
        "timeout": "20",
    }
    assert root[1][0].text == "+15558675310"
    assert [(a.path, a.ok, set(a.params)) for a in rig.reported] == [(CALL_PATH, True, {"Twiml"})]


async def test_hang_up_sets_status_completed(rig: Rig) -> None:
    await rig.control().hang_up()
    assert [a["params"] for a in rig.api.actions(CALL)] == [{"Status": "completed"}]
    assert rig.reported[0].params == {"Status": "completed"} and rig.reported[0].ok


async def test_server_error_is_retried_until_success(rig: Rig) -> None:
    rig.api.fail_next(2)
    await rig.control(attempts=3).hang_up()
    assert [a["status"] for a in rig.api.actions(CALL)] == [500, 500, 200]
    assert [a.ok for a in rig.reported] == [False, False, True]
    assert "HTTP 500" in rig.reported[0].error


async def test_persistent_failure_raises_call_control_error(rig: Rig) -> None:
    rig.api.fail_next(5)
    with pytest.raises(CallControlError):
        await rig.control(attempts=3).hang_up()
    assert [a["status"] for a in rig.api.actions(CALL)] == [500, 500, 500]
    assert [a.ok for a in rig.reported] == [False, False, False]


async def test_unanswered_request_times_out_and_is_retried(rig: Rig) -> None:
    rig.api.hang_next(1)
    await rig.control(attempts=2, attempt_timeout_s=0.2).hang_up()
    assert [a.ok for a in rig.reported] == [False, True]
    assert rig.reported[0].error == "no answer in time"


async def test_client_error_is_not_retried() -> None:
    api, client = await open_rig(token="wrong_token")
    reported: list[TwilioAction] = []
    try:
        control = TwilioCallControl(
            client, CALL, reported.append, dial_action_url=DIAL_ACTION, backoff_s=0.0
        )
        with pytest.raises(CallControlError, match="HTTP 401"):
            await control.hang_up()
        assert [a["status"] for a in api.actions(CALL)] == [401]
        assert [(a.ok, "20003" in a.error) for a in reported] == [(False, True)]
    finally:
        await close_twilio_client(client)
        await api.close()


async def test_unreachable_api_raises_call_control_error(rig: Rig) -> None:
    await rig.api.close()
    with pytest.raises(CallControlError):
        await rig.control(attempts=2).hang_up()
    assert [a.ok for a in rig.reported] == [False, False]


async def test_update_wakes_a_waiting_simulator(rig: Rig) -> None:
    waiting = asyncio.create_task(rig.api.wait_for_update(CALL))
    await rig.control().hang_up()
    assert await waiting == {"Status": "completed"}
    # An update that already arrived is returned at once.
    assert await rig.api.wait_for_update(CALL) == {"Status": "completed"}


async def test_fake_api_refuses_bad_basic_auth_like_twilio(rig: Rig) -> None:
    url = rig.api.url + CALL_PATH
    async with aiohttp.ClientSession() as session:
        for headers in (
            {},
            {"Authorization": aiohttp.encode_basic_auth(ACCOUNT, "nope")},
            {"Authorization": aiohttp.encode_basic_auth("ACx", TOKEN)},
            {"Authorization": "Bearer " + TOKEN},
        ):
            async with session.post(url, data={"Status": "completed"}, headers=headers) as reply:
                assert reply.status == 401
                assert (await reply.json())["code"] == 20003
        async with session.post(
            url,
            data={"Status": "completed"},
            headers={"Authorization": aiohttp.encode_basic_auth(ACCOUNT, TOKEN)},
        ) as reply:
            assert reply.status == 200
            assert (await reply.json())["status"] == "completed"


async def test_fake_api_lists_actions_per_call_over_http(rig: Rig) -> None:
    await rig.control().hang_up()
    other = TwilioCallControl(
        rig.client, "CA" + "9" * 32, dial_action_url=DIAL_ACTION, backoff_s=0.0
    )
    await other.hang_up()
    async with (
        aiohttp.ClientSession() as session,
        session.get(rig.api.url + "/_actions", params={"CallSid": CALL}) as reply,
    ):
        listed = await reply.json()
    assert listed == [
        {"method": "POST", "path": CALL_PATH, "params": {"Status": "completed"}, "status": 200}
    ]
    assert len(rig.api.actions()) == 2
