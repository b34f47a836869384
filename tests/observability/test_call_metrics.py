"""`/metrics` after a real call: turns, stage latencies, barge-in, tool calls, REST errors."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bridge.demo.local import LocalBridge, local_bridge
from bridge.observability.metrics import rest_error_kind
from bridge.sim.calls import place_call
from bridge.sim.script import Interrupt
from bridge.speech.factory import SpeechModels
from tests.observability.conftest import REPO

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(bridge: LocalBridge) -> Samples:
    async with (
        aiohttp.ClientSession() as http,
        http.get(bridge.twilio.bridge_url + "/metrics") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.mark.models
async def test_metrics_count_a_call_with_barge_in_transfer_and_a_failed_rest_attempt(
    tmp_path: Path, speech: SpeechModels
) -> None:
    from bridge.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, DIALPLANS_DIR=REPO / "dialplans", BRIDGE_DATA_DIR=tmp_path / "data"
    )
    async with local_bridge(settings, speech) as bridge:
        before = await scrape(bridge)
        bridge.twilio.api.fail_next(1)  # the transfer's first attempt meets a Twilio 500
        script = [
            Interrupt("Can you put me through to the billing department, please?", after_ms=400)
        ]
        report = await place_call(bridge.twilio, script, speech.caller_tts, speed=3.0)
        after = await scrape(bridge)

    assert report.status == "transferred"
    assert grew(before, after, "bridge_barge_ins_total") == 1
    assert grew(before, after, "bridge_turns_total", source="speech") == 1
    assert grew(before, after, "bridge_turns_total", source="greeting") == 1
    assert grew(before, after, "bridge_tool_calls_total", tool="transfer_call", outcome="ok") == 1
    assert grew(before, after, "bridge_twilio_rest_errors_total", kind="http_500") == 1
    assert grew(before, after, "bridge_calls_total", status="transferred") == 1
    assert grew(before, after, "bridge_active_calls") == 0
    for stage in ("stt", "agent", "tts_first_audio", "first_media"):
        assert grew(before, after, "bridge_turn_stage_seconds_count", stage=stage) >= 1, stage


def test_rest_error_kinds_follow_what_the_call_control_reports() -> None:
    assert rest_error_kind("HTTP 503 (Twilio code 20500): down") == "http_503"
    assert rest_error_kind("no answer in time") == "timeout"
    assert rest_error_kind("ClientConnectorError: refused") == "network"
