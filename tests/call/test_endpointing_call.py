"""Endpointing in a whole call, on virtual time: which pauses end the caller's turn."""

from __future__ import annotations

import asyncio

from tests.call.digit_scenarios import digits_in_two_groups
from tests.call.timeline import Call, line, run_call


class FakeTurnModel:
    """Answers each pause with the next scripted P(done) after `model_ms`, or raises."""

    def __init__(self, *answers: float | Exception, model_ms: float = 30) -> None:
        self._answers = list(answers)
        self._model_ms = model_ms
        self.asked = 0

    async def complete(self, pcm16: bytes, sample_rate: int) -> float:
        self.asked += 1
        await asyncio.sleep(self._model_ms / 1000)
        answer = self._answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


async def order_number_with_a_pause(call: Call) -> None:
    await call.caller.say("my order number is", 1000)
    await call.caller.pause(1200)
    await call.caller.say("4 5 7 2", 1000)
    await call.wait_until(lambda: bool(call.turns))
    await call.caller.pause(3000)


def test_a_pause_the_model_hears_as_unfinished_stays_inside_the_turn() -> None:
    model = FakeTurnModel(0.1, 0.9)
    call = run_call(order_number_with_a_pause, replies=[["Found it."]], turn_model=model)

    assert [turn.caller for turn in call.turns] == ["my order number is 4 5 7 2"]
    assert model.asked == 2
    # The end of the whole thought sounded complete: the short window ended it.
    assert call.turns[0].latency_ms.endpointing == 260


def test_words_that_stop_mid_thought_hold_the_turn_even_when_the_audio_sounds_done() -> None:
    call = run_call(
        order_number_with_a_pause, replies=[["Found it."]], turn_model=FakeTurnModel(0.9, 0.9)
    )

    assert [turn.caller for turn in call.turns] == ["my order number is 4 5 7 2"]


def test_without_a_model_the_fixed_window_splits_the_same_line() -> None:
    call = run_call(order_number_with_a_pause, replies=[["Go on."], ["Found it."]])

    assert call.turns[0].caller == "my order number is"
    assert call.turns[0].latency_ms.endpointing == 600


def test_a_failing_model_ends_the_turn_on_the_fixed_window() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("where is my order", 1000)
        await call.wait_until(lambda: bool(call.turns))

    call = run_call(
        scenario, replies=[["It ships today."]], turn_model=FakeTurnModel(RuntimeError("down"))
    )

    assert call.turns[0].caller == "where is my order"
    assert call.turns[0].latency_ms.endpointing == 600


async def and_then_a_pause(call: Call) -> None:
    await call.caller.say("my parcel never came and", 1200)
    await call.caller.pause(1200)
    await call.caller.say("the box was empty", 1000)
    await call.wait_until(lambda: bool(call.turns))
    await call.caller.pause(3000)


def test_words_slower_than_the_fixed_window_still_veto_a_complete_verdict() -> None:
    # A quiet machine: the model says "complete" at 130 ms, the words come at 900 ms.
    call = run_call(
        and_then_a_pause,
        replies=[["Sorry to hear that."]],
        stt_ms=900,
        turn_model=FakeTurnModel(0.9, 0.9),
    )

    assert [turn.caller for turn in call.turns] == ["my parcel never came and the box was empty"]
    # The whole thought ended as soon as its words were in, not at the long window.
    assert call.turns[0].latency_ms.endpointing == 940


def test_a_complete_turn_whose_words_arrive_in_time_ends_at_the_short_window() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("where is my order", 1000)
        await call.wait_until(lambda: bool(call.turns))

    call = run_call(
        scenario, replies=[["It ships today."]], stt_ms=200, turn_model=FakeTurnModel(0.9)
    )

    assert call.turns[0].latency_ms.endpointing == 260


def test_waiting_for_digits_the_model_ends_the_turn_once_the_whole_id_is_read() -> None:
    plan = line(greeting="Hello. What's your order number?")
    call = run_call(
        digits_in_two_groups,
        dialplan=plan,
        replies=[["Found it."]],
        turn_model=FakeTurnModel(0.9, 0.9),
    )

    # "4 5" sounded done but is too short for an id: the pause stayed inside the turn.
    assert [turn.caller for turn in call.turns[1:]] == ["4 5 7 2"]
    assert call.turns[1].latency_ms.endpointing == 260  # not digits_ms
