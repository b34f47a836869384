"""When the console may place test calls, how it reads caller lines, and the waterfall's bars."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bridge.config import Settings
from bridge.console.sim_calls import CallRefused, parse_script, refusal
from bridge.console.waterfall import stage_bars
from bridge.records import TurnLatency
from bridge.sim.script import PressKeys, Say


def _settings(api: str) -> Settings:
    return Settings(_env_file=None).model_copy(  # type: ignore[call-arg]
        update={
            "twilio_api_base_url": api,
            "public_base_url": "http://127.0.0.1:8080",
            "twilio_auth_token": SecretStr("secret"),
        }
    )


@pytest.mark.parametrize("api", ["", "https://api.twilio.com", "http://10.0.0.5:9000"])
def test_test_calls_are_refused_when_rest_requests_would_reach_a_real_twilio(api: str) -> None:
    reason = refusal(_settings(api))
    assert reason is not None and "TWILIO_API_BASE_URL" in reason


@pytest.mark.parametrize(
    "api", ["http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:1"]
)
def test_test_calls_run_when_rest_requests_go_to_a_local_fake(api: str) -> None:
    assert refusal(_settings(api)) is None


def test_caller_lines_become_speech_and_key_presses() -> None:
    steps = parse_script("Hi there\n\n  keys: 45 72#\nBilling please\n")
    assert steps == [Say("Hi there"), PressKeys("4572#"), Say("Billing please")]


def test_keys_other_than_digits_star_and_hash_are_refused() -> None:
    with pytest.raises(CallRefused, match="keys may be"):
        parse_script("keys: 12a")


def test_waterfall_bars_run_from_the_stage_before(tmp_path: Path) -> None:
    latency = TurnLatency(endpointing=700, stt=400, agent=800, tts_first_audio=900, first_media=950)
    bars = [(name, start, end) for name, _, start, end in stage_bars(latency)]
    assert bars == [
        ("endpointing", -700, 0),
        ("stt", 0, 400),
        ("agent", 400, 800),
        ("tts_first_audio", 800, 900),
        ("first_media", 900, 950),
    ]


def test_a_greeting_turn_has_only_its_speech_bars() -> None:
    bars = [name for name, *_ in stage_bars(TurnLatency(tts_first_audio=90, first_media=120))]
    assert bars == ["tts_first_audio", "first_media"]
