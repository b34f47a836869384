"""A bridge killed mid-call loses no committed turn, and the next start marks the call."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bridge.config import Settings
from bridge.store import open_store

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("crashing_writer.py")


async def _kill_writer_mid_turn(settings: Settings, call_sid: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "BRIDGE_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url.get_secret_value(),
    }
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WRITER),
        call_sid,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert writer.stdout is not None and writer.stderr is not None
    said = await writer.stdout.readline()
    if said != b"third turn in flight\n":
        await writer.wait()
        raise AssertionError(f"writer died early: {(await writer.stderr.read()).decode()}")
    writer.send_signal(signal.SIGKILL)
    assert await writer.wait() == -signal.SIGKILL


async def test_killed_bridge_keeps_committed_turns_and_call_is_marked_interrupted(
    store_settings: Settings,
) -> None:
    await _kill_writer_mid_turn(store_settings, "CA900")

    store = await open_store(store_settings)
    try:
        before = await store.get("CA900")
        interrupted = await store.close_interrupted()
        late_close = await store.close_call("CA900", "completed", "status callback")
        after = await store.get("CA900")
    finally:
        await store.close()

    assert before is not None
    assert [(turn.index, turn.caller) for turn in before.turns] == [(0, "turn 0"), (1, "turn 1")]
    assert before.status == "active"
    assert (interrupted, late_close) == (1, False)
    assert after is not None
    assert after.status == "interrupted" and after.ended_at is not None
    assert [turn.index for turn in after.turns] == [0, 1]
