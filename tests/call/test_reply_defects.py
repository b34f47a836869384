"""Defects of the reply path (issue 11, item 5), each proven on the timeline rig."""

from __future__ import annotations

import logging

import pytest

from bridge.agent.base import CallControlError
from tests.call.timeline import Call, Fail, Tool, line, run_call

SENTENCES = [f"Sentence number {n} is here. " for n in range(24)]


def test_a_reply_whose_speech_fails_ends_even_when_the_agent_has_filled_the_queue() -> None:
    async def scenario(call: Call) -> None:
        call.tts.broken = True
        await call.caller.say("tell me everything", 1200)
        await call.caller.pause(3000)
        # The reply is over: the next turn gets an answer of its own.
        call.tts.broken = False
        await call.caller.say("hello", 600)
        await call.wait_until(lambda: "Fine." in call.twilio.heard())

    call = run_call(
        scenario, replies=[SENTENCES, ["Fine."]], dialplan=line(call={"busy_policy": "queue"})
    )

    assert call.turns[0].caller == "tell me everything"


def test_a_call_control_error_inside_a_reply_is_caught_as_such(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("hello", 600)
        await call.caller.pause(3000)

    with caplog.at_level(logging.ERROR):
        call = run_call(
            scenario, replies=[["Hi there.", Fail(CallControlError("Twilio answered 500"))]]
        )

    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["call control failed during a reply"]
    assert call.turns[0].caller == "hello"


def test_a_barge_in_does_not_cancel_a_transfer_already_requested() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("sales please", 900)
        await call.wait_until(lambda: bool(call.control.requested))
        await call.caller.say("wait", 500)  # talks over "Connecting you now."
        await call.caller.pause(3000)

    call = run_call(
        scenario,
        replies=[
            ["Connecting you now, one moment.", Tool("transfer_call", {"department": "sales"})]
        ],
        rest_ms=1500,
        tts_ms=0,
    )

    assert call.control.finished == ["transfer"]
    assert [tool.name for turn in call.turns for tool in turn.tools] == ["transfer_call"]
    assert call.store.status == "transferred"


def test_a_transfer_in_flight_when_the_call_closes_is_still_recorded() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("sales please", 900)
        await call.wait_until(lambda: bool(call.control.requested))
        await call.close()  # Twilio ends the stream as the transfer takes effect

    call = run_call(
        scenario, replies=[[Tool("transfer_call", {"department": "sales"})]], rest_ms=1500
    )

    assert call.control.finished == ["transfer"]
    assert call.store.status == "transferred"


KEYED = line(dtmf={"keys": {"1": {"transfer": "sales"}}})


def test_a_keyed_order_id_starting_with_a_mapped_key_is_one_entry() -> None:
    async def scenario(call: Call) -> None:
        for digit in "1234#":
            await call.caller.press(digit)
            await call.caller.pause(400)
        await call.caller.pause(3000)

    call = run_call(scenario, dialplan=KEYED)

    assert call.control.attempts == []
    assert call.agent.turns[0][1].text == "(keyed) 1234"


def test_a_mapped_key_pressed_alone_acts_after_the_pause() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.press("1")
        await call.caller.pause(3000)

    call = run_call(scenario, dialplan=KEYED)

    assert [a["target"] for a in call.control.attempts] == ["+15550001111"]


def test_a_mapped_key_is_a_digit_while_the_agent_waits_for_a_keyed_entry() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("where is my order", 1200)
        await call.wait_until(lambda: bool(call.turns))
        await call.caller.press("1")
        await call.caller.pause(4000)  # slow fingers: longer than the key pause
        for digit in "9#":
            await call.caller.press(digit)
        await call.caller.pause(2000)

    call = run_call(
        scenario,
        dialplan=KEYED,
        replies=[["Please key in your order number, then press pound."]],
    )

    assert call.control.attempts == []
    assert call.agent.turns[1][1].text == "(keyed) 19"


def test_words_before_a_tool_are_spoken_while_it_runs() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("where is my order", 1200)
        await call.wait_until(lambda: len(call.turns) == 1)

    call = run_call(
        scenario,
        replies=[["Let me look that up.", Tool("transfer_call", {"department": "x"}, ms=3000)]],
    )

    (looked,) = [p for p in call.twilio.played if p.text == "Let me look that up."]
    assert looked.end_ms < call.agent.tools_done_ms[0]
