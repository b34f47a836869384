"""An agent that answers at once with fixed words: for benchmarks of the bridge itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bridge.agent.base import AgentEvent, CallerTurn, Message, TextDelta

INSTANT_REPLY = "We are open from nine to five, Monday to Friday. Anything else?"


class InstantAgent:
    """Replies `reply` to every turn, in one piece, without thinking."""

    def __init__(self, reply: str = INSTANT_REPLY) -> None:
        self.reply = reply

    async def respond(self, history: list[Message], turn: CallerTurn) -> AsyncIterator[AgentEvent]:
        yield TextDelta(self.reply)
