"""Usage per call: the agent's heard time measured on the stream's clock (what a clear cut
is not counted), the caller's speaking time from their turns, the call's length and LLM
cost; on the record, in `bridge calls show`, the console's call list and page, and the
Prometheus counters."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import numpy as np
from prometheus_client import REGISTRY

from bridge.audio.codec import pcm16_to_ulaw
from bridge.call.meter import SpeechMeter
from bridge.console.call_view import call_detail
from bridge.console.list_view import calls_table
from bridge.demo.local import local_bridge
from bridge.store.base import CallQuery
from bridge.store.report import transcript
from tests.observability.conftest import instant_settings
from tests.support.media_stream import record_when, stream
from tests.support.twilio_side import answer_call

SILENCE = bytes([0xFF] * 160)  # 20 ms of mu-law silence


def test_the_meter_counts_what_played_before_a_clear_and_the_streams_end() -> None:
    meter = SpeechMeter()
    meter.agent(bytes(8000))  # one second, sent at 0 ms
    meter.tick(400)
    meter.cleared()  # 600 ms never played
    assert meter.heard_ms() == 400
    meter.tick(500)
    meter.agent(bytes(1600))  # 200 ms from 500 ms
    meter.agent(bytes(1600))  # queued behind it: 700 to 900 ms
    meter.tick(800)
    assert meter.heard_ms() == 400 + 300  # 100 ms of it still to play at the stream's end
    meter.tick(2000)
    assert meter.heard_ms() == 800


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_calls_usage_is_on_its_record_pages_and_counters(tmp_path: Path) -> None:
    voice = pcm16_to_ulaw((8000 * np.sin(np.arange(160) / 3)).astype("<i2").tobytes())
    before = counter("bridge_speech_seconds_total", side="caller")
    calls_before = counter("bridge_call_seconds_total")
    async with local_bridge(instant_settings(tmp_path)) as bridge, aiohttp.ClientSession() as http:
        answered = await answer_call(bridge.twilio, http)
        call_sid = answered.call_sid
        async with stream(
            bridge, http, call_sid, answered.stream_url, answered.parameters
        ) as caller:
            for at in range(0, 3000, 20):
                await caller.audio(voice if 1000 <= at < 1400 else SILENCE, at)
            await record_when(
                bridge, call_sid, lambda r: any(t.source == "speech" for t in r.turns)
            )
            # The stream's clock runs on past the reply, so all of it has played.
            for at in range(3000, 40000, 20):
                await caller.audio(SILENCE, at)
        record = await record_when(bridge, call_sid, lambda r: r.wrap_up is not None)
        [listed] = await bridge.services.store.list_calls(CallQuery())

    [spoken] = [turn.speech_ms for turn in record.turns if turn.source == "speech"]
    assert 300 <= spoken <= 1000  # the 400 ms burst, as the turn detector saw it
    assert 0 < record.agent_speech_ms <= 40000  # never more than the stream lasted
    assert listed.usage is not None
    assert listed.usage.caller_speech_seconds == round(spoken / 1000, 1)
    assert listed.usage.agent_speech_seconds == round(record.agent_speech_ms / 1000, 1)
    assert f"{listed.usage.call_minutes:.1f}</td>" in calls_table([listed], "Calls")
    assert f"caller {spoken / 1000:.1f} s" in transcript(record)
    assert "Agent heard" in call_detail(record, None)
    assert counter("bridge_speech_seconds_total", side="caller") - before >= 0.3
    assert counter("bridge_call_seconds_total") > calls_before
