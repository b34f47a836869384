"""What the bridge recorded of a simulated call, read back over its `/api/calls`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp

from bridge.records import CallRecord, TurnRecord

PRINT_POLL_S = 0.25


class CallRecordReader:
    def __init__(self, base_url: str, call_sid: str, admin_token: str) -> None:
        self._url = f"{base_url}/api/calls/{call_sid}"
        self._headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}

    async def fetch(self, http: aiohttp.ClientSession) -> CallRecord | None:
        async with http.get(self._url, headers=self._headers) as resp:
            if resp.status != 200:
                return None
            return CallRecord.model_validate_json(await resp.text())

    async def final(self, http: aiohttp.ClientSession) -> CallRecord | None:
        """The record once the bridge has closed it (its teardown runs after ours)."""
        record = None
        for _ in range(40):
            record = await self.fetch(http)
            if record is not None and record.status != "active":
                break
            await asyncio.sleep(0.1)
        return record

    async def print_turns(self, http: aiohttp.ClientSession, show: Callable[[str], None]) -> None:
        """Show each turn as the bridge records it, until cancelled."""
        shown = 0
        while True:
            await asyncio.sleep(PRINT_POLL_S)
            record = await self.fetch(http)
            for turn in record.turns[shown:] if record else []:
                _show_turn(turn, show)
            shown = len(record.turns) if record else shown


def _show_turn(turn: TurnRecord, show: Callable[[str], None]) -> None:
    if turn.caller:
        show(f"  bridge heard: {turn.caller}")
    for tool in turn.tools:
        show(f"  tool {tool.name}({tool.arguments}) -> {tool.result}")
    if turn.agent:
        cut = " [cut off]" if turn.interrupted else ""
        show(f"agent> {turn.heard or turn.agent}{cut}")
