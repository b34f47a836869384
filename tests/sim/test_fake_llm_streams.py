"""The fake LLM server ends a stream its client gave up on the way a real server does."""

from __future__ import annotations

import asyncio
import logging

import openai
import pytest

from bridge.sim.fake_llm import FakeLlm, FakeReply, Pace


async def test_a_stream_the_client_abandons_ends_without_a_server_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # As the bridge does at its first-token deadline: read a little, then drop the stream.
    async with FakeLlm(Pace(tokens_per_s=200)) as fake:
        fake.script("openai", FakeReply("word " * 400))
        client = openai.AsyncOpenAI(api_key="sk-fake", base_url=fake.openai_base_url)
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async for _ in stream:
            break
        await stream.close()
        await client.close()
        await asyncio.sleep(0.2)  # the server writes on into the closed connection

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
