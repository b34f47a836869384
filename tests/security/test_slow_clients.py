"""Clients that hold connections without finishing anything, over HTTP against the real app:
request heads never completed, bodies trickled, media sockets that never send `start`.
Deadlines are set short here (the settings an operator has) so the test waits little."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp import WSCloseCode, WSMsgType

from bridge.demo.local import LocalBridge, local_bridge
from bridge.speech.factory import load_speech
from tests.support.bridges import bridge_settings
from tests.support.twilio_side import open_media

# Far beyond the deadlines set below: a connection still open by then was never closed.
GIVE_UP_S = 20


@asynccontextmanager
async def bridge_with(tmp_path: Path, **limits: object) -> AsyncIterator[LocalBridge]:
    settings = bridge_settings(tmp_path, STT_PROVIDER="instant", TTS_PROVIDER="instant", **limits)
    speech = load_speech(settings)
    try:
        async with local_bridge(settings, speech) as bridge:
            yield bridge
    finally:
        speech.close()


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection."""
    async with asyncio.timeout(GIVE_UP_S):
        return await reader.read()


async def test_fifty_one_unfinished_request_heads_are_all_closed(tmp_path: Path) -> None:
    async with bridge_with(tmp_path, REQUEST_TIMEOUT_S=1) as bridge:
        url = urlsplit(bridge.twilio.bridge_url)
        connections = [await asyncio.open_connection(url.hostname, url.port) for _ in range(51)]
        # Each sends half a request head, then a header byte now and then, never the blank line.
        for _, writer in connections:
            writer.write(b"POST /twilio/voice HTTP/1.1\r\nHost: bridge\r\nX-Slow: a")
        try:
            async with trickling([writer for _, writer in connections]):
                answers = await asyncio.gather(*(closed_by_server(r) for r, _ in connections))
        finally:
            for _, writer in connections:
                writer.close()
    assert len(answers) == 51  # every one of them was closed by the bridge


@asynccontextmanager
async def trickling(writers: list[asyncio.StreamWriter]) -> AsyncIterator[None]:
    """While the block runs, a byte now and then on each connection: slow, never finished."""

    async def trickle() -> None:
        while True:
            await asyncio.sleep(0.2)
            for writer in writers:
                if not writer.is_closing():
                    writer.write(b"a")

    task = asyncio.create_task(trickle())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_body_trickled_byte_by_byte_gets_408(tmp_path: Path) -> None:
    async with bridge_with(tmp_path, REQUEST_TIMEOUT_S=1) as bridge:
        url = urlsplit(bridge.twilio.bridge_url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        writer.write(
            b"POST /twilio/voice HTTP/1.1\r\nHost: bridge\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 400\r\n\r\nCa"
        )
        try:
            async with trickling([writer]):
                answer = await closed_by_server(reader)
        finally:
            writer.close()
    assert answer.startswith(b"HTTP/1.1 408")


async def test_a_media_socket_that_never_sends_start_is_closed(tmp_path: Path) -> None:
    async with bridge_with(tmp_path, MEDIA_START_TIMEOUT_S=1) as bridge:
        async with aiohttp.ClientSession() as http:
            sockets = [await open_media(bridge.twilio, http) for _ in range(20)]
            for ws in sockets:  # `connected`, then nothing: no `start`, ever
                await ws.send_str('{"event": "connected", "protocol": "Call", "version": "1"}')
            async with asyncio.timeout(GIVE_UP_S):
                ends = await asyncio.gather(*(ws.receive() for ws in sockets))
            for ws in sockets:
                await ws.close()
    assert all(end.type is WSMsgType.CLOSE for end in ends)
    assert {end.data for end in ends} == {WSCloseCode.POLICY_VIOLATION}
