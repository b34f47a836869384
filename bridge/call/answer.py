"""The agent's answer to one caller turn, spoken while it streams: thinking and speaking overlap.

The agent's words are cut into pieces (sentences) as they arrive; a bounded queue carries them
to the speaking side, so the first sentence plays while the rest is still being written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from bridge.agent.base import AgentEvent, TextDelta, ToolEvent, ToolStarted, Usage
from bridge.call.chunker import SentenceChunker
from bridge.call.latency import TurnClock
from bridge.records import TurnRecord, TurnUsage

PIECES_AHEAD = 16  # written but not yet spoken; the agent waits beyond this


async def stream_answer(
    events: AsyncIterator[AgentEvent],
    record: TurnRecord,
    clock: TurnClock,
    say: Callable[[str], Awaitable[None]],
    on_tool: Callable[[ToolEvent], None],
) -> None:
    """Speak `events` piece by piece through `say`; tools that ran go to `on_tool`."""
    pieces: asyncio.Queue[str | None] = asyncio.Queue(maxsize=PIECES_AHEAD)

    async def think() -> None:
        chunker = SentenceChunker()
        async for event in events:
            if isinstance(event, TextDelta):
                clock.reached("agent")
                record.agent += event.text
                for piece in chunker.push(event.text):
                    await pieces.put(piece)
            elif isinstance(event, ToolStarted):
                # Words said before a tool ("let me check") play while it runs: the chunker
                # would hold the last sentence until more text came after it.
                for piece in chunker.flush():
                    await pieces.put(piece)
            elif isinstance(event, ToolEvent):
                on_tool(event)
            elif isinstance(event, Usage):
                record.usage = TurnUsage(**vars(event))
        clock.reached("agent_done")
        for piece in chunker.flush():
            await pieces.put(piece)
        # Not in a `finally`: when either side fails the TaskGroup cancels the other, and a
        # put into a full queue nobody reads any more would wait forever.
        await pieces.put(None)

    async def speak() -> None:
        while (piece := await pieces.get()) is not None:
            await say(piece)

    async with asyncio.TaskGroup() as group:
        group.create_task(think())
        group.create_task(speak())
