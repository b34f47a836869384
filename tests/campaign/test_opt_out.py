"""A callee who asks not to be called again: on the do-not-call list, told so, `opted_out`.

Through the fake Twilio API and its callee with instant speech (the bridge hears the callee's
words as the one transcript it is given), and the rules agent; the LLM agent's side through
the fake LLM and the real `openai` client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.agent.base import CallContext, CallerTurn, Message, TextDelta, ToolEvent
from bridge.agent.rules import RulesAgent
from bridge.agent.tools import ToolExecutor, tool_specs
from bridge.audio.wav import write_wav
from bridge.bench.voice import buzz
from bridge.campaign.dialer import create_campaign
from bridge.campaign.models import CampaignSettings
from bridge.demo.local import LocalBridge, local_bridge
from bridge.dialplan.outbound import DEFAULT_OPT_OUT_CONFIRMATION
from bridge.records import CallRecord
from bridge.sim.callee import Callee, CalleePlayer
from bridge.sim.fake_llm import FakeReply, FakeToolCall
from bridge.sim.script import PlayAudio
from bridge.speech.factory import load_speech
from bridge.speech.instant import InstantSTT
from bridge.store import CallStore, open_store
from tests.agent.llm_rig import ACME, Line, acme, started_fakes
from tests.e2e.pace import SPEED
from tests.support.bridges import bridge_settings
from tests.support.call_control import RecordingControl

CALLEE = "+12125551000"
VARIABLES = {"name": "Dana", "order_id": "4572"}


@pytest.fixture
async def hears_opt_out(tmp_path: Path) -> AsyncIterator[LocalBridge]:
    """A bridge (rules agent) whose every caller turn is heard as a request to stop calling."""
    settings = bridge_settings(tmp_path, STT_PROVIDER="instant", TTS_PROVIDER="instant")
    speech = load_speech(settings)
    speech.stt = InstantSTT("Please take me off your list, and don't call me again.")
    try:
        async with local_bridge(settings, speech) as running:
            running.twilio.api.player = CalleePlayer(
                running.twilio.account_sid,
                running.twilio.auth_token,
                speech.caller_tts,
                speed=SPEED,  # faster than this, the callee's words hit the frame rate limit
                admin_token=running.twilio.admin_token,
            )
            yield running
    finally:
        speech.close()


async def settled(bridge: LocalBridge, call_sid: str) -> CallRecord:
    for _ in range(200):
        record = await bridge.services.store.get(call_sid)
        assert record is not None
        if record.status != "active":
            return record
        await asyncio.sleep(0.05)
    raise AssertionError(f"call {call_sid} never ended")


async def test_a_callee_who_opts_out_hears_it_confirmed_and_is_never_dialled_again(
    hears_opt_out: LocalBridge, tmp_path: Path
) -> None:
    bridge = hears_opt_out
    api, store = bridge.twilio.api, bridge.services.store
    assert api.player is not None
    words = tmp_path / "words.wav"  # a turn the VAD hears; instant STT hears the opt-out in it
    write_wav(words, buzz(900), 8000)
    api.player.callees[CALLEE] = Callee(lines=(PlayAudio(words),), ring_ms=200)
    placed_record = await bridge.services.dial("acme", CALLEE, VARIABLES)
    placed = api.placed[placed_record.call_sid]
    await asyncio.wait_for(placed.done.wait(), timeout=30)
    record = await settled(bridge, placed_record.call_sid)

    assert record.outcome == "opted_out"  # over the `human` AMD gave
    assert record.answered_by == "human"
    assert CALLEE in await store.campaigns.do_not_call()
    (turn,) = [turn for turn in record.turns if turn.tools]
    assert [tool.name for tool in turn.tools] == ["opt_out"]
    assert turn.agent == DEFAULT_OPT_OUT_CONFIRMATION
    assert turn.heard == DEFAULT_OPT_OUT_CONFIRMATION  # played whole before the hang-up
    assert api.actions(record.call_sid)[-1]["params"] == {"Status": "completed"}

    # A campaign holding the number later skips it; the other contact is dialled.
    other = "+12125551001"
    api.player.callees[other] = Callee(kind="busy", ring_ms=100)
    csv_text = f"phone,name,order_id\n{CALLEE},Dana,1\n{other},Sam,2\n"
    settings = CampaignSettings(dialplan="acme", hours="00:00-23:59", rate_per_s=50)
    campaign_id = await create_campaign(
        store.campaigns, bridge.services.dialplans, settings, csv_text
    )
    for _ in range(200):
        contacts = {c["phone"]: c for c in await store.campaigns.contacts(campaign_id)}
        if contacts[CALLEE]["state"] == "done" and contacts[other]["attempts"]:
            break
        await asyncio.sleep(0.05)
    assert (contacts[CALLEE]["outcome"], contacts[CALLEE]["attempts"]) == ("do_not_call", 0)
    assert [p.to for p in api.placed.values()].count(CALLEE) == 1
    assert other in [p.to for p in api.placed.values()]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CallStore]:
    opened = await open_store(bridge_settings(tmp_path))
    yield opened
    await opened.close()


async def rules_reply(
    store: CallStore, said: str, *, outbound: bool, history: str = ""
) -> tuple[str, list[ToolEvent]]:
    context = CallContext(call_sid="CA1", caller=CALLEE, called="+15555550100", outbound=outbound)
    await store.open_call(CallRecord(call_sid="CA1", direction="outbound", outcome="human"))
    tools = ToolExecutor(ACME, RecordingControl(), None, context, opt_outs=store.campaigns)
    messages = [Message(role="agent", text=history or ACME.greeting)]
    events = [
        event async for event in RulesAgent(ACME, tools).respond(messages, CallerTurn(text=said))
    ]
    text = "".join(event.text for event in events if isinstance(event, TextDelta))
    return text, [event for event in events if isinstance(event, ToolEvent)]


@pytest.mark.parametrize(
    "said",
    [
        "Don't call me again.",
        "Please take me off your list",
        "Remove my number from your calling list.",
        "Stop calling me!",
        "I do not want any more calls, put me on your do not call list",
        "Never call this number again",
    ],
)
async def test_the_rules_agent_hears_a_request_not_to_be_called(
    store: CallStore, said: str
) -> None:
    text, tools = await rules_reply(store, said, outbound=True)
    assert [(tool.name, tool.ends_call) for tool in tools] == [("opt_out", True)]
    assert text == DEFAULT_OPT_OUT_CONFIRMATION
    assert await store.campaigns.do_not_call() == {CALLEE}
    record = await store.get("CA1")
    assert record is not None and record.outcome == "opted_out"


@pytest.mark.parametrize(
    "said", ["Can you call me back tomorrow?", "Is my order on the list?", "Stop, which order?"]
)
async def test_other_words_and_inbound_calls_opt_nobody_out(store: CallStore, said: str) -> None:
    _, tools = await rules_reply(store, said, outbound=True)
    assert not [tool for tool in tools if tool.name == "opt_out"]
    _, tools = await rules_reply(store, "Don't call me again", outbound=False)
    assert not [tool for tool in tools if tool.name == "opt_out"]
    assert await store.campaigns.do_not_call() == set()


async def test_an_opt_out_heard_unsure_is_asked_about_first(store: CallStore) -> None:
    context = CallContext(call_sid="CA1", caller=CALLEE, called="+15555550100", outbound=True)
    tools = ToolExecutor(ACME, RecordingControl(), None, context, opt_outs=store.campaigns)
    agent = RulesAgent(ACME, tools)
    history = [Message(role="agent", text=ACME.greeting)]
    unsure = CallerTurn(text="stop calling me", confidence=0.2)
    asked = [event async for event in agent.respond(history, unsure)]
    assert [e.text for e in asked if isinstance(e, TextDelta)] == [
        "Did you want us to stop calling you?"
    ]
    assert await store.campaigns.do_not_call() == set()
    history += [Message(role="agent", text="Did you want us to stop calling you?")]
    answered = [event async for event in agent.respond(history, CallerTurn(text="Yes."))]
    assert [e.name for e in answered if isinstance(e, ToolEvent)] == ["opt_out"]
    assert await store.campaigns.do_not_call() == {CALLEE}


async def test_the_llm_agent_is_offered_opt_out_only_on_calls_it_placed_and_confirms_it(
    store: CallStore,
) -> None:
    assert "opt_out" not in [spec.name for spec in tool_specs(ACME)]
    assert "opt_out" in [spec.name for spec in tool_specs(ACME, outbound=True)]
    async for fake, twilio in started_fakes():
        context = CallContext(call_sid="CA1", caller=CALLEE, called="+15555550100", outbound=True)
        await store.open_call(CallRecord(call_sid="CA1", direction="outbound"))
        line = Line(
            fake, twilio, acme(providers=["openai"]), context=context, opt_outs=store.campaigns
        )
        fake.script(
            "openai", FakeReply("Of course.", (FakeToolCall("opt_out", {"reason": "asked"}),))
        )
        try:
            reply = await line.say("Please stop calling me.")
        finally:
            await line.close()
        offered = [tool["function"]["name"] for tool in fake.requests[0][1]["tools"]]
        assert "opt_out" in offered
        assert [(t.name, t.ends_call) for t in reply.tools] == [("opt_out", True)]
        assert reply.text == f"Of course. {DEFAULT_OPT_OUT_CONFIRMATION}"
        assert len(fake.requests) == 1  # nothing asked of the model after the opt-out
    record = await store.get("CA1")
    assert record is not None and record.outcome == "opted_out"
    assert await store.campaigns.do_not_call() == {CALLEE}
