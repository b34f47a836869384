"""Warm transfers over HTTP against the real app, with the real `twilio` client on the fake
Twilio API: the caller holds in a conference, the human hears the brief and presses a key;
accepted, both are in the room; declined (or not answered), the caller is back with the
agent on a new stream with the conversation restored, and the record keeps every leg."""

from __future__ import annotations

import asyncio
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from bridge.config import Settings
from bridge.console.call_view import call_detail
from bridge.demo.local import LocalBridge, local_bridge
from bridge.records import usage_of
from bridge.sim.fake_llm import FakeLlm, FakeReply
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.sim.fake_twilio_humans import HumanKind, HumanLeg
from bridge.sim.handshake import Stream, stream_of
from bridge.store.report import transcript
from tests.observability.conftest import REPO, instant_settings
from tests.support.media_stream import WAIT_S, record_when, stream
from tests.support.twilio_side import Answered, answer_call

SALES = "+15555550110"


def warm_sales(tmp_path: Path) -> Path:
    """The shipped dialplans, acme's sales taking warm transfers."""
    folder = tmp_path / "dialplans"
    shutil.copytree(REPO / "dialplans", folder)
    acme = folder / "acme.yaml"
    text = acme.read_text()
    line = "    announcement: Connecting you to Acme sales.\n"
    assert line in text
    acme.write_text(text.replace(line, line + "    transfer: warm\n    accept_timeout_s: 5\n"))
    return folder


async def caller_back(api: FakeTwilioApi, call_sid: str) -> Stream:
    """The media stream a REST update put the caller back on."""
    async with asyncio.timeout(WAIT_S):
        while True:
            for action in api.actions(call_sid):
                back = stream_of(action["params"].get("Twiml", ""))
                if back is not None:
                    return back
            await asyncio.sleep(0.05)


def warm_settings(tmp_path: Path, **extra: object) -> Settings:
    return instant_settings(tmp_path).model_copy(
        update={"dialplans_dir": warm_sales(tmp_path), **extra}
    )


@dataclass
class OnHold:
    answered: Answered
    hold: dict[str, str]  # the REST update that moved the caller into the hold room
    human: HumanLeg  # the leg placed to sales

    @property
    def call_sid(self) -> str:
        return self.answered.call_sid


async def caller_holds_for_sales(bridge: LocalBridge, http: aiohttp.ClientSession) -> OnHold:
    """A caller presses 1 (acme: sales), is put on hold, and the human's leg is placed."""
    api = bridge.twilio.api
    answered = await answer_call(bridge.twilio, http)
    call_sid = answered.call_sid
    async with stream(bridge, http, call_sid, answered.stream_url, answered.parameters) as key:
        await key("1")
        hold = await asyncio.wait_for(api.wait_for_update(call_sid), WAIT_S)
    human = await asyncio.wait_for(api.humans.leg_to(SALES), WAIT_S)
    return OnHold(answered, hold, human)


async def test_the_human_hears_the_brief_then_joins_the_waiting_caller(tmp_path: Path) -> None:
    settings = warm_settings(tmp_path)
    async with local_bridge(settings) as bridge, aiohttp.ClientSession() as http:
        api = bridge.twilio.api
        api.humans.kinds[SALES] = "accept"
        held = await caller_holds_for_sales(bridge, http)
        call_sid, human = held.call_sid, held.human

        room = ET.fromstring(held.hold["Twiml"]).find("Dial/Conference")
        assert room is not None and room.text is not None
        assert room.get("startConferenceOnEnter") == "false"
        assert human.params["MachineDetection"] == "Enable"
        assert human.params["Url"].startswith(f"{bridge.twilio.bridge_url}/twilio/warm/answer?")
        await asyncio.wait_for(human.done.wait(), WAIT_S)
        record = await record_when(bridge, call_sid, lambda r: len(r.legs) == 2)

    # The brief, then the key's prompt, both before the human was put through.
    assert human.heard_before_joining >= 2
    assert human.heard[0].startswith("A caller for sales. Reason: caller asked for sales.")
    assert human.heard[1].startswith("Press 1 to take the call")
    assert human.joined == room.text
    assert (room.text, call_sid, "hold") in api.conferences.log
    assert (room.text, human.call_sid, "join") in api.conferences.log
    assert [(leg.kind, leg.department, leg.status) for leg in record.legs] == [
        ("warm", "sales", "accepted"),
        ("warm", "sales", "completed"),
    ]
    assert record.status == "transferred" and record.legs[0].sid == human.call_sid
    placed = [a for a in record.twilio_actions if a.path.endswith("/Calls.json")]
    assert len(placed) == 1 and placed[0].params["To"] == SALES
    page = call_detail(record, None)  # the console's call page lists the legs
    assert page.count("Warm transfer") == 2 and human.call_sid in page


async def test_a_declined_transfer_gives_the_caller_back_to_the_agent(tmp_path: Path) -> None:
    settings = warm_settings(tmp_path)
    async with local_bridge(settings) as bridge, aiohttp.ClientSession() as http:
        api = bridge.twilio.api
        api.humans.kinds[SALES] = "decline"
        held = await caller_holds_for_sales(bridge, http)
        call_sid, human = held.call_sid, held.human
        await asyncio.wait_for(human.done.wait(), WAIT_S)
        back = await caller_back(api, call_sid)
        assert back.parameters["token"] != held.answered.parameters["token"]
        assert api.conferences.room_of(call_sid) is None  # out of the hold room
        async with stream(bridge, http, call_sid, back.url, back.parameters):
            await record_when(
                bridge, call_sid, lambda r: any("can't take your call" in t.agent for t in r.turns)
            )
        record = await record_when(bridge, call_sid, lambda r: r.status != "active")

    assert human.joined == "" and human.heard[-1].startswith("Okay. The caller goes back")
    said = [turn.agent for turn in record.turns]
    assert said[0].startswith("Thanks for calling Acme")  # the first stream's turns are kept
    assert any(s.startswith("Sorry, sales can't take your call right now.") for s in said)
    assert [(leg.kind, leg.department, leg.status) for leg in record.legs] == [
        ("warm", "sales", "declined"),
        ("agent", "", "returned"),
    ]
    assert "warm transfer to sales: declined" in transcript(record)


@pytest.mark.parametrize(("kind", "outcome"), [("machine", "machine"), ("no_answer", "no-answer")])
async def test_a_machine_or_no_answer_gives_the_caller_back(
    tmp_path: Path, kind: HumanKind, outcome: str
) -> None:
    settings = warm_settings(tmp_path)
    async with local_bridge(settings) as bridge, aiohttp.ClientSession() as http:
        api = bridge.twilio.api
        api.humans.kinds[SALES] = kind
        held = await caller_holds_for_sales(bridge, http)
        call_sid, human = held.call_sid, held.human
        await caller_back(api, call_sid)
        record = await record_when(bridge, call_sid, lambda r: r.status == "active")
    assert human.heard == [] and human.joined == ""  # a machine hears no brief
    assert [(leg.kind, leg.department, leg.status) for leg in record.legs] == [
        ("warm", "sales", outcome)
    ]


async def test_the_brief_is_the_llms_when_one_is_configured_and_its_tokens_are_the_calls(
    tmp_path: Path,
) -> None:
    brief = "A customer wants to buy ten tents for a school trip and asks for a quote."
    async with FakeLlm() as llm:
        llm.script("openai", FakeReply(text=brief))
        settings = warm_settings(
            tmp_path, openai_base_url=llm.openai_base_url, openai_api_key=SecretStr("sk-test")
        )
        async with local_bridge(settings) as bridge, aiohttp.ClientSession() as http:
            bridge.twilio.api.humans.kinds[SALES] = "accept"
            held = await caller_holds_for_sales(bridge, http)
            human = held.human
            await asyncio.wait_for(human.done.wait(), WAIT_S)
            record = await record_when(bridge, held.call_sid, lambda r: bool(r.writings))
        asked = llm.requests[0][1]["messages"][-1]["content"]
    assert human.heard[0] == brief and human.joined
    assert "Transferred to: sales. Reason given: caller asked for sales." in asked
    assert [w.purpose for w in record.writings] == ["transfer brief"]
    written = record.writings[0].usage
    assert written.provider == "openai" and written.prompt_tokens > 0
    assert usage_of(record).llm_prompt_tokens >= written.prompt_tokens  # the brief is counted
    assert "transfer brief written by openai" in transcript(record)


async def test_a_caller_who_hangs_up_on_hold_ends_the_humans_leg(tmp_path: Path) -> None:
    settings = warm_settings(tmp_path)
    async with local_bridge(settings) as bridge, aiohttp.ClientSession() as http:
        api = bridge.twilio.api
        api.humans.kinds[SALES] = "accept"
        api.humans.ring_s = 1.0  # still ringing when the caller gives up
        held = await caller_holds_for_sales(bridge, http)
        call_sid, human = held.call_sid, held.human
        await record_when(bridge, call_sid, lambda r: r.status == "transferred")
        api.caller_hangs_up(call_sid)
        record = await record_when(bridge, call_sid, lambda r: r.status == "completed")
        await asyncio.wait_for(human.done.wait(), WAIT_S)

    assert record.end_reason == "caller hung up while on hold"
    assert [(leg.kind, leg.status) for leg in record.legs] == [("warm", "caller-left")]
    ended = [a for a in api.actions(human.call_sid) if a["params"].get("Status") == "canceled"]
    assert len(ended) == 1  # the human's ringing leg was cancelled
    assert human.joined == "" and human.heard == [
        "Sorry, the caller is no longer waiting. Goodbye."
    ]


async def test_a_human_leg_twilio_refuses_leaves_the_caller_with_the_agent(tmp_path: Path) -> None:
    settings = warm_settings(tmp_path)
    async with local_bridge(settings) as bridge, aiohttp.ClientSession() as http:
        api = bridge.twilio.api
        api.humans.kinds[SALES] = "accept"
        api.fail_next(1)  # the calls.create of the human's leg answers 500 (never retried)
        answered = await answer_call(bridge.twilio, http)
        call_sid = answered.call_sid
        async with stream(bridge, http, call_sid, answered.stream_url, answered.parameters) as key:
            await key("1")
            record = await record_when(
                bridge,
                call_sid,
                lambda r: any(t.name == "transfer_call" for turn in r.turns for t in turn.tools),
            )
            assert record.status == "active"  # still talking to the agent
    [tool] = [t for turn in record.turns for t in turn.tools if t.name == "transfer_call"]
    assert tool.result["error"].startswith("transfer failed: placing a call failed: HTTP 500")
    assert api.actions(call_sid) == [] and api.humans.legs == {}
    assert [a.ok for a in record.twilio_actions] == [False]  # the one calls.create, recorded
