"""Digits mode: after the agent asks for an order number, pauses between digit groups stay
inside the caller's turn, and that turn only."""

from __future__ import annotations

from bridge.agent.phrases import asks_for_digits
from tests.call.digit_scenarios import digits_in_two_groups
from tests.call.timeline import Call, line, run_call


def test_after_the_agent_asks_for_digits_a_pause_between_groups_stays_in_the_turn() -> None:
    plan = line(greeting="Hello. What's your order number?")
    call = run_call(digits_in_two_groups, dialplan=plan, replies=[["Found it."]])

    assert [turn.caller for turn in call.turns[1:]] == ["4 5 7 2"]
    assert call.turns[1].latency_ms.endpointing == plan.turns.digits_ms


def test_without_the_question_the_same_pause_ends_the_turn() -> None:
    plan = line(greeting="Hello, how can I help you?")
    call = run_call(digits_in_two_groups, dialplan=plan, replies=[["Go on."], ["Found it."]])

    assert call.turns[1].caller == "4 5"


async def digits_then_a_question(call: Call) -> None:
    await call.wait_until(lambda: bool(call.turns))
    await call.caller.pause(500)
    await call.caller.say("4 5 7 2", 700)
    await call.wait_until(lambda: len(call.turns) >= 2)
    await call.caller.pause(2500)
    await call.caller.say("and when", 700)
    await call.caller.pause(1200)
    await call.caller.say("does it come", 700)
    await call.wait_until(lambda: len(call.turns) >= 4)
    await call.caller.pause(3000)


def test_the_turn_after_the_answer_is_heard_as_usual_again() -> None:
    plan = line(greeting="Hello. What's your order number?")
    call = run_call(
        digits_then_a_question,
        dialplan=plan,
        replies=[["Order 4 5 7 2 has shipped."], ["Go on."], ["Tomorrow."]],
    )

    assert [turn.caller for turn in call.turns[1:4]] == ["4 5 7 2", "and when", "does it come"]


def test_questions_for_digits_are_recognised_in_english_and_spanish() -> None:
    asks = [
        "Sure. What's your order number? You can say it, or key it in and press pound.",
        "Could you tell me the ZIP code on the order, to confirm it's your order?",
        "Please key it in, then press pound.",
        "¿Cuál es su número de pedido?",
        "¿Me dice el código postal del pedido?",
    ]
    others = [
        "Connecting you to sales.",
        "Order 4 5 7 2 has shipped. Is there anything else I can help with?",
        "Le comunico con ventas.",
    ]
    assert all(asks_for_digits(text) for text in asks)
    assert not any(asks_for_digits(text) for text in others)
