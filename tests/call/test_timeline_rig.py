"""The rig itself: a plain call plays out on virtual time as Twilio would see it."""

from __future__ import annotations

import asyncio

import pytest

from tests.call.timeline import Call, line, run_call
from tests.call.virtual_loop import Deadlock, run_virtual


def test_a_caller_turn_is_answered_and_heard_in_full() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("where is my order", 1200)
        await call.wait_until(lambda: bool(call.turns))

    call = run_call(scenario, replies=[["It ships today."]])

    assert call.twilio.heard() == ["It ships today."]
    assert call.turns[0].caller == "where is my order"
    assert call.turns[0].heard == "It ships today."
    assert not call.turns[0].interrupted
    # The silence window, then STT and TTS: the reply starts after the caller stopped.
    spoke_until = 1200
    assert call.twilio.first_audio_after(0) > spoke_until


def test_the_greeting_plays_in_real_time_and_its_marks_echo_after_it() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.pause(5000)

    call = run_call(scenario, dialplan=line(greeting="Hello there, how can I help?"))

    (played,) = call.twilio.played
    assert played.end_ms - played.start_ms == 6 * 300
    ends = [at for at, name in call.twilio.echoed if name.endswith(".end")]
    assert ends == [played.end_ms]


def test_talking_over_the_agent_clears_its_audio_and_keeps_what_was_heard() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("hi", 600)
        await call.wait_until(lambda: bool(call.twilio.played))
        await call.caller.pause(700)
        await call.caller.say("wait", 600)
        await call.caller.pause(3000)

    call = run_call(scenario, replies=[["One two three four five six seven eight."]])

    assert len(call.twilio.times("clear")) == 1
    assert call.twilio.heard()[0].endswith("[cut]")
    assert call.turns[0].interrupted


def test_a_virtual_loop_waiting_on_nothing_reports_a_deadlock() -> None:
    async def forever() -> None:
        await asyncio.Event().wait()

    with pytest.raises(Deadlock):
        run_virtual(forever())
