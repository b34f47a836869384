"""A call driven by key presses over a real media socket, with instant speech: for tests that
need a turn of the agent without any speech model."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiohttp import WSMsgType

from bridge.demo.local import LocalBridge
from bridge.records import CallRecord, TurnRecord
from bridge.twilio import messages
from tests.support.bridges import REPO


def quick_dialplans(tmp_path: Path, orders_yaml: str | None = None) -> Path:
    """The shipped dialplans with Acme's greeting cut to a word (and its orders replaced)."""
    dialplans = tmp_path / "dialplans"
    if not dialplans.exists():
        shutil.copytree(REPO / "dialplans", dialplans)
    acme = dialplans / "acme.yaml"
    text = re.sub(r"greeting: >-\n(  .*\n)+", "greeting: Hi.\n", acme.read_text())
    if orders_yaml is not None:
        text = re.sub(r"orders:\n(  .*\n)+", orders_yaml, text)
    acme.write_text(text)
    return dialplans


async def echo_marks(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Twilio's side of playback: each mark comes back (here at once, as if played)."""
    seq = 100
    async for frame in ws:
        if frame.type is not WSMsgType.TEXT:
            continue
        sent = messages.parse_outbound(frame.data)
        if isinstance(sent, messages.OutboundMark):
            seq += 1
            await ws.send_str(messages.mark_echo_message(sent.stream_sid, seq, sent.mark.name))


@asynccontextmanager
async def playing(ws: aiohttp.ClientWebSocketResponse) -> AsyncIterator[None]:
    """While the block runs, the agent's audio 'plays' (its marks are echoed)."""
    task = asyncio.create_task(echo_marks(ws))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def keyed_turn(
    bridge: LocalBridge,
    ws: aiohttp.ClientWebSocketResponse,
    stream_sid: str,
    keys: str,
    call_sid: str,
    timeout_s: float = 20.0,
) -> TurnRecord:
    """Press `keys`; the recorded turn they make, once the agent's answer has played."""
    record: CallRecord | None = await bridge.services.store.get(call_sid)
    before = len(record.turns) if record else 0
    for seq, key in enumerate(keys, start=3):
        await ws.send_str(messages.dtmf_message(stream_sid, seq, key))
    async with asyncio.timeout(timeout_s):
        while True:
            record = await bridge.services.store.get(call_sid)
            turns = record.turns[before:] if record else []
            keyed = [turn for turn in turns if turn.source == "dtmf" and turn.agent]
            if keyed:
                return keyed[-1]
            await asyncio.sleep(0.05)
