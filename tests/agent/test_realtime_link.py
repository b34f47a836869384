"""The realtime link through the real `openai` client, against the local stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import openai
import pytest

from bridge.agent.realtime.link import (
    AgentWords,
    AudioOut,
    CallerSpeechStarted,
    CallerSpeechStopped,
    CallerWords,
    LinkClosed,
    LinkConfig,
    LinkEvent,
    ResponseDone,
    ToolRequest,
)
from bridge.agent.realtime.openai_link import OpenAIRealtimeConnector, OpenAIRealtimeLink
from bridge.sim.fake_llm import FakeReply, FakeToolCall
from bridge.sim.fake_realtime import FakeRealtime, RealtimeTurn
from bridge.sim.fake_realtime_conversation import tone

SILENCE = b"\xff" * 160
ORDER_TOOL = {
    "name": "check_order_status",
    "description": "Look up an order",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
}


def config(turn_detection: str = "server_vad") -> LinkConfig:
    return LinkConfig(
        model="gpt-realtime",
        instructions="You answer the phone for Acme.",
        voice="alloy",
        tools=[ORDER_TOOL],
        turn_detection=turn_detection,
        silence_ms=400,
        transcription_model="gpt-4o-mini-transcribe",
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeRealtime]:
    async with FakeRealtime(delay_s=0.01) as server:
        yield server


def connector(fake: FakeRealtime) -> OpenAIRealtimeConnector:
    return OpenAIRealtimeConnector(
        openai.AsyncOpenAI(api_key="sk-fake", base_url=fake.openai_base_url)
    )


async def speak(link: OpenAIRealtimeLink, ms: int = 800) -> None:
    """Silence, a tone the stand-in's VAD takes for speech, then silence to end the turn."""
    audio = SILENCE * 10 + tone(ms) + SILENCE * 40
    for start in range(0, len(audio), 160):
        await link.send_audio(audio[start : start + 160])


async def events_until(link: OpenAIRealtimeLink, responses: int) -> list[LinkEvent]:
    seen: list[LinkEvent] = []
    async for event in link.events():
        seen.append(event)
        if isinstance(event, ToolRequest):
            await link.tool_result(event.call_id, {"order_id": "4572", "status": "shipped"})
            await link.respond()
        if sum(isinstance(e, ResponseDone) for e in seen) == responses:
            return seen
    return seen


async def test_session_asks_for_mulaw_both_ways_with_transcription_tools_and_prompt(
    fake: FakeRealtime,
) -> None:
    link = await connector(fake).open(config())
    await link.close()
    session = fake.sessions[-1]
    assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert session["audio"]["output"] == {"format": {"type": "audio/pcmu"}, "voice": "alloy"}
    assert session["audio"]["input"]["transcription"]["model"] == "gpt-4o-mini-transcribe"
    assert session["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 400
    assert session["instructions"] == "You answer the phone for Acme."
    assert session["tools"] == [{"type": "function", **ORDER_TOOL}]


async def test_a_spoken_turn_brings_words_audio_a_tool_call_and_usage(fake: FakeRealtime) -> None:
    fake.script(
        RealtimeTurn(
            "where is order 4572",
            FakeReply("Let me check.", (FakeToolCall("check_order_status", {"order_id": "4572"}),)),
        )
    )
    link = await connector(fake).open(config())
    feeding = asyncio.create_task(speak(link))
    events = await asyncio.wait_for(events_until(link, responses=2), 10)
    await feeding
    await link.close()
    kinds = [type(event) for event in events]
    assert kinds.index(CallerSpeechStarted) < kinds.index(CallerSpeechStopped)
    assert CallerWords("where is order 4572") in events
    assert (
        ToolRequest(
            events[kinds.index(ToolRequest)].call_id, "check_order_status", {"order_id": "4572"}
        )
        in events
    )
    words = [event.text for event in events if isinstance(event, AgentWords)]
    assert words == ["Let me check.", "Your order 4572 is shipped. Anything else?"]
    assert any(isinstance(event, AudioOut) and event.ulaw for event in events)
    first = next(event for event in events if isinstance(event, ResponseDone))
    assert first.status == "completed"
    assert first.usage.input_audio > 0 and first.usage.output_audio > 0


async def test_with_the_bridges_own_vad_a_commit_answers_the_turn(fake: FakeRealtime) -> None:
    fake.script(RealtimeTurn("hello", FakeReply("Hi there.")))
    link = await connector(fake).open(config("bridge"))
    assert fake.sessions[-1]["audio"]["input"]["turn_detection"] is None
    await link.send_audio(tone(400))
    await link.commit()
    events = await asyncio.wait_for(events_until(link, responses=1), 10)
    await link.close()
    assert CallerSpeechStarted() not in events
    assert AgentWords(events[-2].item_id, "Hi there.") in events  # type: ignore[union-attr]


async def test_cancel_ends_the_response_and_truncate_is_recorded(fake: FakeRealtime) -> None:
    fake.delay_s = 0.0
    fake.script(RealtimeTurn("tell me a story", FakeReply("Once upon a time " * 20)))
    link = await connector(fake).open(config("bridge"))
    await link.commit()
    item_id = ""
    async for event in link.events():
        if isinstance(event, AudioOut) and not item_id:
            item_id = event.item_id
            await link.truncate(item_id, 120)
            await link.cancel()
        if isinstance(event, ResponseDone):
            break
    await link.close()
    assert [(t.item_id, t.audio_end_ms) for t in fake.truncations] == [(item_id, 120)]
    assert fake.cancels == 1


async def test_a_refused_connection_is_link_closed(fake: FakeRealtime) -> None:
    fake.refuse = True
    with pytest.raises(LinkClosed):
        await connector(fake).open(config())


async def test_a_session_that_will_not_speak_mulaw_is_link_closed(fake: FakeRealtime) -> None:
    fake.output_format = "audio/pcm"  # passed on to Twilio as mu-law, it would be loud noise
    with pytest.raises(LinkClosed, match="output audio is 'audio/pcm'"):
        await connector(fake).open(config())


async def test_a_dropped_session_ends_the_events_with_link_closed(fake: FakeRealtime) -> None:
    fake.drop_after_responses = 0
    link = await connector(fake).open(config("bridge"))
    await link.commit()
    with pytest.raises(LinkClosed):
        async for _ in link.events():
            pass
    await link.close()
