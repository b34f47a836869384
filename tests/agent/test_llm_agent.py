"""The LLM agent with the real openai and anthropic clients against the local fake LLM."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bridge.agent.base import TextDelta, ToolEvent, ToolStarted
from bridge.agent.fallback import FallbackAgent
from bridge.sim.fake_llm import FakeLlm, FakeReply, FakeToolCall
from bridge.sim.fake_twilio_api import FakeTwilioApi
from tests.agent.llm_rig import CALL_SID, Line, acme, started_fakes

Fakes = tuple[FakeLlm, FakeTwilioApi]


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    async for pair in started_fakes():
        yield pair


@pytest.fixture(params=["openai", "anthropic"])
async def line(request: pytest.FixtureRequest, fakes: Fakes) -> AsyncIterator[Line]:
    fake, twilio = fakes
    the_line = Line(fake, twilio, acme(providers=[request.param]))
    the_line.api = request.param  # type: ignore[attr-defined]
    yield the_line
    await the_line.close()


async def test_reply_text_streams_as_several_deltas(line: Line, fakes: Fakes) -> None:
    fakes[0].script(line.api, FakeReply("We are open from eight to eight. Anything else?"))  # type: ignore[attr-defined]
    reply = await line.say("When are you open?")
    deltas = [e for e in reply.events if isinstance(e, TextDelta)]
    assert len(deltas) > 3
    assert reply.text == "We are open from eight to eight. Anything else?"


async def test_words_the_recogniser_doubts_reach_the_model_with_a_note_to_check_first(
    line: Line, fakes: Fakes
) -> None:
    fake = fakes[0]
    fake.script(line.api, FakeReply("Did you want to end the call?"))  # type: ignore[attr-defined]
    await line.say("Bye!", confidence=0.3)
    _, body = fake.requests[-1]
    assert "ask the caller to confirm first" in str(body["messages"][-1])
    assert line.history[-2].text == "Bye!"  # the call's own history keeps the words as heard
    fake.script(line.api, FakeReply("Sure."))  # type: ignore[attr-defined]
    await line.say("When are you open?")
    _, body = fake.requests[-1]
    assert "confirm" not in str(body["messages"][-1])


async def test_order_status_goes_through_the_tool_and_back_to_the_model(
    line: Line, fakes: Fakes
) -> None:
    fake = fakes[0]
    reply = await line.say("Where is my order 4572?")
    assert [t.name for t in reply.tools] == ["check_order_status"]
    assert reply.tools[0].result["status"] == "shipped"
    assert reply.text == "Let me check that. Your order 4572 is shipped. Anything else?"
    # The second request carried the tool result back to the model.
    _, body = fake.requests[-1]
    assert "shipped" in str(body["messages"][-1])
    assert [m.role for m in line.history[-4:]] == ["caller", "agent", "tool", "agent"]


async def test_a_tool_is_announced_before_it_runs_so_the_words_before_it_play_meanwhile(
    line: Line, fakes: Fakes
) -> None:
    reply = await line.say("Where is my order 4572?")
    kinds = [type(e) for e in reply.events if not isinstance(e, TextDelta)][:2]
    assert kinds == [ToolStarted, ToolEvent]
    started = next(i for i, e in enumerate(reply.events) if isinstance(e, ToolStarted))
    said_before = "".join(e.text for e in reply.events[:started] if isinstance(e, TextDelta))
    assert said_before == "Let me check that."


async def test_tool_call_split_across_chunks_with_several_calls_in_one_reply(
    line: Line, fakes: Fakes
) -> None:
    fake = fakes[0]
    api = line.api  # type: ignore[attr-defined]
    fake.script(
        api,
        FakeReply(
            "Checking both.",
            (
                FakeToolCall("check_order_status", {"order_id": "4572"}),
                FakeToolCall("check_order_status", {"order_id": "88310"}),
            ),
        ),
        FakeReply("One shipped, one is out for delivery."),
    )
    reply = await line.say("Orders 4572 and 88310 please")
    assert [t.result["status"] for t in reply.tools] == ["shipped", "out for delivery"]
    assert reply.text.endswith("One shipped, one is out for delivery.")
    results = str(fake.requests[-1][1]["messages"])
    assert "out for delivery" in results and "shipped" in results


async def test_transfer_through_the_tool_reaches_twilio_and_ends_the_reply(
    line: Line, fakes: Fakes
) -> None:
    reply = await line.say("Can I talk to billing?")
    assert [(t.name, t.transferred) for t in reply.tools] == [("transfer_call", True)]
    update = await fakes[1].wait_for_update(CALL_SID)
    assert "+15555550130" in update["Twiml"]
    assert len(fakes[0].requests) == 1  # no model call after the handover


async def test_usage_is_reported_with_tokens_and_a_cost(line: Line, fakes: Fakes) -> None:
    reply = await line.say("Where is my order 4572?")
    (usage,) = reply.usage
    assert usage.provider == line.api  # type: ignore[attr-defined]
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.cost_usd > 0


async def test_bad_tool_arguments_go_back_to_the_model_not_to_the_call(
    line: Line, fakes: Fakes
) -> None:
    fake, twilio = fakes
    fake.script(
        line.api,  # type: ignore[attr-defined]
        FakeReply("", (FakeToolCall("transfer_call", {"dept": "billing"}),)),
        FakeReply("Which department would you like?"),
    )
    reply = await line.say("transfer me")
    assert "invalid arguments" in reply.tools[0].result["error"]
    assert reply.text == "Which department would you like?"
    assert twilio.actions() == []


async def test_a_slow_tool_gets_a_spoken_filler(fakes: Fakes) -> None:
    fake, twilio = fakes
    line = Line(fake, twilio, acme(providers=["openai"], tool_filler_after_ms=0))
    twilio.hang_next()  # the transfer request waits until it times out
    line.tools.control._attempt_timeout_s = 0.5  # type: ignore[attr-defined]
    reply = await line.say("billing please")
    await line.close()
    filler = next(e for e in reply.events if isinstance(e, TextDelta))
    assert "moment" in filler.text
    assert "transfer failed" in reply.tools[0].result["error"]


async def test_tool_rounds_are_capped_and_the_turn_ends_in_words(fakes: Fakes) -> None:
    fake, twilio = fakes
    line = Line(fake, twilio, acme(providers=["openai"], max_tool_rounds=1))
    fake.script(
        "openai",
        FakeReply("", (FakeToolCall("check_order_status", {"order_id": "4572"}),)),
        FakeReply("It shipped."),
    )
    reply = await line.say("order 4572")
    await line.close()
    assert len(reply.tools) == 1 and reply.text == "It shipped."
    assert "tools" not in fake.requests[-1][1]


async def test_the_chain_is_a_fallback_agent_and_rules_alone_without_keys(fakes: Fakes) -> None:
    fake, twilio = fakes
    line = Line(fake, twilio, acme())
    assert isinstance(line.agent, FallbackAgent)
    await line.close()


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_a_base_url_without_a_key_reaches_the_server_with_the_dialplan_temperature(
    api: str, fakes: Fakes
) -> None:
    fake, twilio = fakes
    line = Line(fake, twilio, acme(providers=[api], temperature=0.7), keys=False)
    try:
        fake.script(api, FakeReply("Hello there."))  # type: ignore[arg-type]
        reply = await line.say("Hi")
    finally:
        await line.close()
    assert reply.text == "Hello there."
    (sent_to, body), *_ = fake.requests
    assert sent_to == api
    assert body["temperature"] == 0.7
