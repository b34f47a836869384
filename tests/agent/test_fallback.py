"""Faults: retries within the turn budget, failover along the chain, tiered spoken fallbacks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bridge.agent.fallback import RepeatTrimmer
from bridge.agent.llm.errors import classify, retry_after
from bridge.sim.fake_llm import FakeLlm, FakeReply
from bridge.sim.fake_twilio_api import FakeTwilioApi
from tests.agent.llm_rig import CALL_SID, Line, acme, started_fakes

Fakes = tuple[FakeLlm, FakeTwilioApi]


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    async for pair in started_fakes():
        yield pair


@pytest.fixture
async def chain(fakes: Fakes) -> AsyncIterator[Line]:
    """OpenAI, then Anthropic, then nothing: the tiered fallbacks are the last word."""
    line = Line(
        fakes[0],
        fakes[1],
        acme(providers=["openai", "anthropic"], max_retries=1, request_timeout_ms=500),
    )
    yield line
    await line.close()


@pytest.mark.parametrize("api", ["openai", "anthropic"])
async def test_429_with_retry_after_is_retried_on_the_same_provider(fakes: Fakes, api: str) -> None:
    fake, twilio = fakes
    line = Line(fake, twilio, acme(providers=[api]))
    fake.script(api, FakeReply(status=429, retry_after="0"), FakeReply("Hello again."))  # type: ignore[arg-type]
    reply = await line.say("hi")
    await line.close()
    assert reply.text == "Hello again."
    assert [request[0] for request in fake.requests] == [api, api]


async def test_500_then_failover_to_the_next_provider(chain: Line, fakes: Fakes) -> None:
    fake = fakes[0]
    fake.script("openai", FakeReply(status=500), FakeReply(status=500))
    fake.script("anthropic", FakeReply("Anthropic here."))
    reply = await chain.say("hello")
    assert reply.text == "Anthropic here."
    assert [request[0] for request in fake.requests] == ["openai", "openai", "anthropic"]
    assert reply.usage[0].provider == "anthropic"


async def test_auth_errors_are_not_retried(chain: Line, fakes: Fakes) -> None:
    fake = fakes[0]
    fake.script("openai", FakeReply(status=401))
    fake.script("anthropic", FakeReply("Fine."))
    assert (await chain.say("hello")).text == "Fine."
    assert [request[0] for request in fake.requests] == ["openai", "anthropic"]


async def test_stream_cut_mid_reply_continues_without_a_duplicate_start(
    chain: Line, fakes: Fakes
) -> None:
    fake = fakes[0]
    fake.script("openai", FakeReply("Your order is on its way.", cut_after_tokens=3))
    fake.script("anthropic", FakeReply("Your order is on its way."))
    reply = await chain.say("where is my order?")
    assert reply.text == "Your order is on its way."
    # The next provider saw what had already been said.
    assert "Your order is" in str(fake.requests[-1][1]["messages"][-1])


async def test_a_stalled_provider_times_out_and_the_next_answers(chain: Line, fakes: Fakes) -> None:
    fake = fakes[0]
    fake.script("openai", FakeReply("late", stall_s=5), FakeReply("late", stall_s=5))
    fake.script("anthropic", FakeReply("On time."))
    reply = await chain.say("hello")
    assert reply.text == "On time."


async def test_when_every_provider_fails_the_fallbacks_escalate_per_call(
    fakes: Fakes,
) -> None:
    fake, twilio = fakes
    line = Line(
        fake,
        twilio,
        acme(
            providers=["openai", "anthropic"],
            max_retries=0,
            fallback={"human_department": "support"},
        ),
    )
    for _ in range(3):
        fake.script("openai", FakeReply(status=500))
        fake.script("anthropic", FakeReply(status=503))
    first, second, third = [await line.say("hello?") for _ in range(3)]
    await line.close()
    settings = acme().agent.fallback
    assert first.text == settings.repeat
    assert second.text == settings.hold
    assert third.text == settings.transfer_notice
    assert [(t.name, t.transferred) for t in third.tools] == [("transfer_call", True)]
    assert "support@acme-outfitters" in (await twilio.wait_for_update(CALL_SID))["Twiml"]


async def test_last_tier_promises_a_callback_and_never_hangs_up(fakes: Fakes) -> None:
    fake, twilio = fakes
    line = Line(fake, twilio, acme(providers=["openai"], max_retries=0))
    for _ in range(4):
        fake.script("openai", FakeReply(status=500))
    replies = [await line.say("hello?") for _ in range(4)]
    await line.close()
    assert replies[2].text == replies[3].text == acme().agent.fallback.callback_promise
    assert twilio.actions() == []
    assert not any(tool.ends_call for reply in replies for tool in reply.tools)


async def test_a_good_turn_resets_the_fallback_tiers(fakes: Fakes) -> None:
    fake, twilio = fakes
    line = Line(fake, twilio, acme(providers=["openai"], max_retries=0))
    fake.script("openai", FakeReply(status=500), FakeReply("Back."), FakeReply(status=500))
    texts = [(await line.say("hi")).text for _ in range(3)]
    await line.close()
    repeat = acme().agent.fallback.repeat
    assert texts == [repeat, "Back.", repeat]


async def test_rules_agent_catches_what_the_llms_drop(fakes: Fakes) -> None:
    fake, twilio = fakes
    line = Line(fake, twilio, acme(providers=["openai", "rules"], max_retries=0))
    fake.script("openai", FakeReply(status=500))
    reply = await line.say("where is order 4572")
    await line.close()
    assert [t.name for t in reply.tools] == ["check_order_status"]
    assert "shipped" in reply.text.lower()


def test_repeat_trimmer_drops_only_the_repeated_start() -> None:
    trimmer = RepeatTrimmer("Your order is")
    out = [trimmer.feed(piece) for piece in ["Your ", "order ", "is ", "on its way."]]
    assert "".join(out) == " on its way."
    different = RepeatTrimmer("Your order is")
    assert different.feed("Sorry, ") == "Sorry, "


def test_retry_after_reads_seconds_milliseconds_and_dates() -> None:
    assert retry_after(None, "2") == 2.0
    assert retry_after("1500", "9") == 1.5
    assert retry_after(None, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after(None, None) is None


def test_unknown_faults_are_not_retried() -> None:
    assert classify(TypeError("bug")).kind == "bad_request"
    assert not classify(TypeError("bug")).retryable


async def test_a_provider_without_a_first_token_in_time_is_abandoned_for_the_next(
    fakes: Fakes,
) -> None:
    fake, twilio = fakes
    line = Line(
        fake,
        twilio,
        acme(
            providers=["openai", "anthropic"],
            request_timeout_ms=10000,
            turn_latency_budget_ms=20000,
            max_retries=2,
            first_token_ms_by_provider={"openai": 300},
        ),
    )
    fake.script("openai", FakeReply("late", stall_s=5))
    fake.script("anthropic", FakeReply("On time."))
    reply = await line.say("hello")
    await line.close()
    assert reply.text == "On time."
    assert [api for api, _ in fake.requests] == ["openai", "anthropic"]  # no retry of openai
