"""Writes one call's record to the store without ever holding up the call's audio."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bridge.records import CallLeg, CallRecord, CallStatus, TurnRecord, TwilioAction
from bridge.store.base import CallStore

log = logging.getLogger(__name__)

# A call writes a handful of entries per turn; this many waiting means the store is stuck.
QUEUE_LIMIT = 256


class CallJournal:
    """An ordered, bounded write-behind queue of one call's record updates."""

    def __init__(self, store: CallStore, call_sid: str) -> None:
        self._store = store
        self._call_sid = call_sid
        self._queue: asyncio.Queue[Callable[[], Awaitable[None]] | None] = asyncio.Queue(
            QUEUE_LIMIT
        )
        self._writer = asyncio.create_task(self._write_all(), name=f"journal-{call_sid}")

    def stream(self, stream_sid: str) -> None:
        self._put(lambda: self._store.set_stream(self._call_sid, stream_sid))

    def turn(self, turn: TurnRecord) -> None:
        self._put(lambda: self._store.add_turn(self._call_sid, turn))

    def action(self, action: TwilioAction) -> None:
        self._put(lambda: self._store.add_action(self._call_sid, action))

    def leg(self, leg: CallLeg) -> None:
        self._put(lambda: self._store.add_leg(self._call_sid, leg))

    async def close(self, status: CallStatus, reason: str, timeout_s: float = 10.0) -> None:
        """Write the end of the call and wait (bounded) for everything before it to land."""
        self._put(lambda: self._store.close_call(self._call_sid, status, reason))
        try:
            async with asyncio.timeout(timeout_s):
                await self._queue.put(None)
                await asyncio.shield(self._writer)
        except TimeoutError:
            log.error("call record of %s not fully written in %.0fs", self._call_sid, timeout_s)
            self._writer.cancel()

    def _put(self, write: Callable[[], Awaitable[None]]) -> None:
        try:
            self._queue.put_nowait(write)
        except asyncio.QueueFull:
            log.error("call record queue of %s is full; an update was dropped", self._call_sid)

    async def _write_all(self) -> None:
        while (write := await self._queue.get()) is not None:
            try:
                await write()
            except Exception:
                log.exception("writing the call record of %s failed", self._call_sid)


async def open_journal(store: CallStore, record: CallRecord) -> CallJournal:
    """Make sure the call exists in the store (the webhook may have run on another instance)."""
    await store.open_call(record)
    return CallJournal(store, record.call_sid)
