"""The caller who goes quiet (issue 11, item 4): reprompts, then a goodbye and a hang-up."""

from __future__ import annotations

from tests.call.timeline import Call, line, run_call

IDLE = line(greeting="Hello.", call={"idle": {"after_ms": 5000, "reprompts": 2}})


def test_a_silent_caller_is_reprompted_then_told_goodbye_and_hung_up_on() -> None:
    async def scenario(call: Call) -> None:
        await call.wait_until(lambda: call.control.hang_ups == 1, within_ms=60_000)

    call = run_call(scenario, dialplan=IDLE)

    assert call.twilio.heard() == [
        "Hello.",
        "Are you still there?",
        "Are you still there?",
        "Thank you for calling.",
        "Goodbye!",
    ]
    goodbye_end = call.twilio.played[-1].end_ms
    assert call.store.status == "completed"
    assert call.control.finished == ["hang_up"]
    assert call.twilio.echoed[-1][0] >= goodbye_end  # hung up once the goodbye was heard


def test_a_caller_who_answers_a_reprompt_starts_the_count_again() -> None:
    async def scenario(call: Call) -> None:
        await call.wait_until(lambda: "Are you still there?" in call.twilio.heard())
        await call.caller.pause(2000)  # it has played
        await call.caller.say("yes I am here", 1200)
        await call.wait_until(lambda: len(call.turns) == 3)
        await call.caller.pause(12_000)  # two more reprompts' worth, but not three

    call = run_call(scenario, dialplan=IDLE, replies=[["Great, how can I help?"]])

    assert call.control.hang_ups == 0
    assert call.twilio.heard().count("Are you still there?") == 3


def test_a_caller_keying_digits_is_not_idle() -> None:
    async def scenario(call: Call) -> None:
        await call.wait_until(lambda: bool(call.turns))
        for digit in "4572":
            await call.caller.pause(3000)
            await call.caller.press(digit)
        await call.caller.pause(3000)

    call = run_call(scenario, dialplan=IDLE)

    assert "Are you still there?" not in call.twilio.heard()


def test_with_idle_off_a_silent_line_stays_open() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.pause(60_000)

    call = run_call(scenario, dialplan=line(greeting="Hello.", call={"idle": {"after_ms": 0}}))

    assert call.twilio.heard() == ["Hello."]
