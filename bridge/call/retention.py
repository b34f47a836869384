"""Recordings are kept for their dialplan's `recording.retention_days`, then deleted.

The bridge sweeps its recordings folder at startup and every hour: a recording's age is its
file's last write (the end of the call), its retention that of the dialplan its call record
names (the longest of all dialplans when the record or the dialplan is gone, so nothing is
deleted early by mistake).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

from bridge.dialplan.loader import DialplanSet
from bridge.store.base import CallStore

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 3600.0
DAY_S = 86400.0
DEFAULT_RETENTION_DAYS = 30


def _files(folder: Path) -> list[tuple[Path, float]]:
    if not folder.is_dir():
        return []
    return [(path, path.stat().st_mtime) for path in folder.glob("*.wav") if path.is_file()]


async def sweep_recordings(
    folder: Path, store: CallStore, dialplans: DialplanSet, now: float | None = None
) -> int:
    """Delete the recordings past their retention; returns how many."""
    now = time.time() if now is None else now
    retention = {plan.name: plan.recording.retention_days for plan in dialplans}
    longest = max(retention.values(), default=DEFAULT_RETENTION_DAYS)
    deleted = 0
    for path, written in await asyncio.to_thread(_files, folder):
        record = await store.get(path.stem)
        days = retention.get(record.dialplan, longest) if record is not None else longest
        if now - written > days * DAY_S:
            await asyncio.to_thread(path.unlink, missing_ok=True)
            deleted += 1
    if deleted:
        log.info("%d recordings past their retention deleted", deleted)
    return deleted


class RecordingJanitor:
    """The hourly sweep, as an aiohttp cleanup context (started and cancelled with the app)."""

    def __init__(self, folder: Path, store: CallStore, dialplans: DialplanSet) -> None:
        self._folder = folder
        self._store = store
        self._dialplans = dialplans

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await sweep_recordings(self._folder, self._store, self._dialplans)
            except Exception:
                log.exception("sweeping old recordings failed; trying again in an hour")
            await asyncio.sleep(SWEEP_EVERY_S)

    async def run(self, _app: object) -> AsyncIterator[None]:
        task = asyncio.create_task(self._sweep_forever(), name="recording-janitor")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
