"""Callers reading an order number, shared by the digits-mode and endpointing tests."""

from __future__ import annotations

from tests.call.timeline import Call


async def digits_in_two_groups(call: Call) -> None:
    """After the greeting: "4 5", a 1.2 s pause, "7 2"; then silence."""
    await call.wait_until(lambda: bool(call.turns))
    await call.caller.pause(500)
    await call.caller.say("4 5", 700)
    await call.caller.pause(1200)
    await call.caller.say("7 2", 700)
    await call.wait_until(lambda: len(call.turns) >= 2)
    await call.caller.pause(3000)
