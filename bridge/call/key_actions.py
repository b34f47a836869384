"""What the caller's keys do to a live call (`keypad` says what each key means).

A keyed entry ("1234#") is a caller turn. A mapped key says its message (a turn the agent
does not answer) and transfers; the transfer runs off the media loop (REST retries) and is
recorded as a turn of its own. A mapped key that may start a keyed entry acts only after
`key_pause_ms` without another key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bridge.agent.tools import ToolExecutor
from bridge.call.conversation import Conversation
from bridge.call.interruptions import OwnTask
from bridge.call.keypad import HeldKey, KeyedEntry, Keypad, asks_for_keyed_entry
from bridge.call.turns import PendingTurn
from bridge.dialplan.models import DtmfSettings, KeyAction

# Hands a turn to the session; passed with each key, so only running tasks hold it.
TurnArrived = Callable[[PendingTurn], Awaitable[None]]


class KeyActions:
    def __init__(
        self, settings: DtmfSettings, tools: ToolExecutor, call: Conversation, own: OwnTask
    ) -> None:
        self._settings = settings
        self._keypad = Keypad(settings)
        self._tools = tools
        self._call = call
        self._own = own

    def agent_said(self, text: str) -> None:
        """Asked to key something in, the caller's keys are digits, not menu actions."""
        self._keypad.entry_expected = asks_for_keyed_entry(text)

    async def press(self, digit: str, now_ms: float, arrived: TurnArrived) -> None:
        pressed = self._keypad.press(digit, now_ms)
        if isinstance(pressed, KeyedEntry):
            await arrived(PendingTurn(source="dtmf", text=f"(keyed) {pressed.digits}"))
        elif isinstance(pressed, HeldKey):
            self._own(self._after_pause(pressed, arrived), "key")
        elif pressed is not None:
            await self._act(digit, pressed, arrived)

    async def _after_pause(self, held: HeldKey, arrived: TurnArrived) -> None:
        """A mapped key acts only if no other key follows it (then it starts a keyed entry)."""
        await asyncio.sleep(self._settings.key_pause_ms / 1000)
        action = self._keypad.release(held)
        if action is not None:
            await self._act(held.digit, action, arrived)

    async def _act(self, digit: str, action: KeyAction, arrived: TurnArrived) -> None:
        if action.say:
            await arrived(
                PendingTurn(source="dtmf", text=action.say, scripted=True, caller=f"(key {digit})")
            )
        if action.transfer:
            self._own(self._transfer(digit, action.transfer), "key-transfer")

    async def _transfer(self, digit: str, department: str) -> None:
        event = await self._tools.run("transfer_call", {"department": department})
        self._call.tool_turn(event, "dtmf", f"(key {digit})")
