"""Barge-in (issue 11, item 2): `clear` at once, and the reply comes back after a false one."""

from __future__ import annotations

import pytest

from bridge.call.interruptions import InterruptionJudge
from bridge.dialplan.models import InterruptionSettings
from tests.call.timeline import Call, line, run_call

GREETING = "Hello and welcome to Acme. I can check an order or connect you to sales."
ANSWER = ["Your order left our warehouse this morning. It should arrive on Friday."]


async def greeted(call: Call, *, after_ms: float = 1000) -> None:
    """Wait until the greeting has played for `after_ms`."""
    await call.wait_until(lambda: bool(call.twilio.played))
    await call.caller.pause(after_ms)


def test_a_cough_over_the_greeting_clears_at_once_and_the_cut_sentence_comes_back() -> None:
    async def scenario(call: Call) -> None:
        await greeted(call)
        await call.caller.noise(170)  # dropped as too short by the turn detector
        await call.wait_until(lambda: bool(call.turns))

    call = run_call(scenario, dialplan=line(greeting=GREETING))

    assert len(call.twilio.times("clear")) == 1
    assert call.twilio.heard() == [
        "Hello and welcome to Acme. [cut]",
        "Hello and welcome to Acme.",
        "I can check an order or connect you to sales.",
    ]
    (greeting,) = call.turns
    assert greeting.resumed == 1 and not greeting.interrupted
    assert greeting.heard.endswith(
        "Hello and welcome to Acme. I can check an order or connect you to sales."
    )


def test_a_backchannel_over_a_reply_does_not_replace_it() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("where is my order", 1200)
        await call.wait_until(lambda: bool(call.twilio.played))
        await call.caller.pause(800)
        await call.caller.say("mm-hmm", 500)
        await call.wait_until(lambda: len(call.turns) == 1)

    call = run_call(scenario, replies=[ANSWER])

    assert len(call.agent.turns) == 1  # the agent was not asked about "mm-hmm"
    assert call.twilio.heard()[-2:] == [
        "Your order left our warehouse this morning.",
        "It should arrive on Friday.",
    ]
    assert call.turns[0].resumed == 1
    assert call.history[-1].text.endswith("It should arrive on Friday.")
    assert not call.history[-1].interrupted


def test_words_over_the_agent_are_a_real_interruption_and_get_their_own_answer() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("where is my order", 1200)
        await call.wait_until(lambda: bool(call.twilio.played))
        await call.caller.pause(800)
        await call.caller.say("actually I want a refund", 1500)
        await call.wait_until(lambda: len(call.turns) == 2)

    call = run_call(scenario, replies=[ANSWER, ["Sure, refunds take five days."]])

    assert call.turns[0].interrupted and call.turns[0].resumed == 0
    assert call.agent.turns[1][1].text == "actually I want a refund"
    assert call.twilio.heard()[-1] == "Sure, refunds take five days."


def test_noise_without_words_over_the_agent_is_talked_over_once_no_words_come() -> None:
    interruptions = {"words_within_ms": 1500}

    async def scenario(call: Call) -> None:
        await call.caller.say("where is my order", 1200)
        await call.wait_until(lambda: bool(call.twilio.played))
        await call.caller.pause(500)
        await call.caller.noise(6000)  # babble: no words, never a pause
        await call.wait_until(lambda: len(call.turns) == 1)

    call = run_call(
        scenario, replies=[ANSWER], dialplan=line(call={"interruptions": interruptions})
    )

    clear_at = call.twilio.times("clear")[0]
    resumed_at = call.twilio.first_audio_after(clear_at)
    assert resumed_at is not None and resumed_at - clear_at < 3000  # not after the babble
    assert call.turns[0].resumed == 1
    assert len(call.agent.turns) == 1


def test_with_resume_off_a_cough_drops_the_reply_as_before() -> None:
    async def scenario(call: Call) -> None:
        await greeted(call)
        await call.caller.noise(170)
        await call.caller.pause(5000)

    call = run_call(
        scenario, dialplan=line(greeting=GREETING, call={"interruptions": {"resume": False}})
    )

    assert call.twilio.heard() == ["Hello and welcome to Acme. [cut]"]
    assert call.turns[0].interrupted


def test_backchannels_and_short_sounds_are_not_interruptions() -> None:
    judge = InterruptionJudge(InterruptionSettings(min_ms=300, min_words=1))
    assert judge.is_false("Mm-hmm.")
    assert judge.is_false("uh-huh, okay")
    assert judge.is_false("")
    assert judge.is_false("stop", speech_ms=200)
    assert not judge.is_false("Okay, but when?")
    assert not judge.is_false("no", speech_ms=400)


@pytest.mark.parametrize(
    ("words", "ms"),
    [("", 120), ("", 170), ("", 240), ("", 400), ("", 900), ("mm-hmm", 450), ("okay", 350),
     ("uh-huh", 500), ("yeah right", 700), ("mhm okay", 800)],
)  # fmt: skip
@pytest.mark.parametrize("into_ms", [300, 1700, 3200])
def test_no_cough_backchannel_or_noise_burst_loses_a_reply(
    words: str, ms: int, into_ms: int
) -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("where is my order", 1200)
        await call.wait_until(lambda: bool(call.twilio.played))
        await call.caller.pause(into_ms)
        await call.caller.say(words, ms)
        await call.wait_until(lambda: len(call.turns) == 1)

    call = run_call(scenario, replies=[ANSWER])

    heard = call.twilio.heard()
    assert heard[-1] == "It should arrive on Friday."
    assert "Your order left our warehouse this morning." in heard
    assert len(call.agent.turns) == 1
    assert not call.turns[0].interrupted
