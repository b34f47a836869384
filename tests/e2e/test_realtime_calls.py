"""Whole realtime calls through the simulator: the bridge, the real `openai` client, the
local Realtime stand-in, Twilio's side; instant speech, so only a fallback would use it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.audio.wav import write_wav
from bridge.bench.voice import buzz
from bridge.demo.local import local_bridge
from bridge.sim.calls import place_call
from bridge.sim.fake_llm import FakeReply
from bridge.sim.fake_realtime import FakeRealtime, RealtimeTurn
from bridge.sim.report import CallReport
from bridge.sim.script import HangUp, Interrupt, PlayAudio, PressKeys, Step
from bridge.speech.instant import INSTANT_TRANSCRIPT
from tests.support.bridges import REPO, bridge_settings

ORDER_PHONE = "+15035550142"  # the phone on order 4572: no verification asked


class BuzzingCaller:
    """The caller's voice: a buzz both VADs hear as speech (a pure tone fades into noise)."""

    sample_rate = 8000

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        yield buzz(60 * len(text))


@pytest.fixture
async def fake() -> AsyncIterator[FakeRealtime]:
    async with FakeRealtime(delay_s=0.05) as server:
        yield server


@pytest.fixture
def line(tmp_path: Path) -> PlayAudio:
    """A caller line the VAD (the bridge's and the stand-in's) hears as one turn."""
    path = tmp_path / "line.wav"
    write_wav(path, buzz(900) + bytes(16_000), 8000)
    return PlayAudio(path)


def realtime_plans(tmp_path: Path, **realtime: Any) -> Path:
    plans = tmp_path / "dialplans"
    shutil.copytree(REPO / "dialplans", plans)
    acme = yaml.safe_load((plans / "acme.yaml").read_text())
    # The cascade behind it answers with the rules agent: no test reaches a real LLM.
    acme["agent"] = {"mode": "realtime", "providers": ["rules"], "realtime": realtime}
    (plans / "acme.yaml").write_text(yaml.safe_dump(acme))
    return plans


async def realtime_call(
    tmp_path: Path, fake: FakeRealtime, script: list[Step], **realtime: Any
) -> CallReport:
    settings = bridge_settings(
        tmp_path,
        realtime_plans(tmp_path, **realtime),
        STT_PROVIDER="instant",
        TTS_PROVIDER="instant",
        OPENAI_API_KEY="sk-fake",
        OPENAI_REALTIME_BASE_URL=fake.openai_base_url,
    )
    async with local_bridge(settings) as bridge:
        report = await place_call(
            bridge.twilio, script, BuzzingCaller(), caller=ORDER_PHONE, speed=4
        )
    return report


async def test_a_realtime_call_checks_an_order_and_transfers_through_our_tools(
    tmp_path: Path, fake: FakeRealtime, line: PlayAudio
) -> None:
    fake.script(
        RealtimeTurn("It's order 4572"),
        RealtimeTurn("Put me through to billing"),
    )
    report = await realtime_call(tmp_path, fake, [line, line])
    greeting, order, transfer = report.turns
    assert greeting.source == "greeting" and greeting.heard.startswith("Thanks for calling Acme")
    assert order.caller == "It's order 4572"
    assert [(t.name, t.result.get("status")) for t in order.tools] == [
        ("check_order_status", "shipped")
    ]
    assert "shipped" in order.heard
    assert order.usage is not None and order.usage.provider == "openai-realtime"
    assert order.usage.audio_prompt_tokens > 0 and order.usage.audio_completion_tokens > 0
    assert order.usage.cost_usd > 0
    assert "audio)" in order.usage.summary()  # `bridge calls show` and the console print it
    assert order.latency_ms.first_media is not None and order.latency_ms.endpointing == 500
    assert 800 <= order.speech_ms <= 1000  # the 900 ms line, by the model's VAD
    assert [t.name for t in transfer.tools] == ["transfer_call"]
    assert report.status == "transferred"
    assert len(report.twilio_actions) == 1 and "+15555550130" in str(report.twilio_actions[0])
    session = fake.sessions[-1]
    assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    # The cascaded agent's tools, messages included (the line takes them by default).
    assert {tool["name"] for tool in session["tools"]} == {
        "transfer_call",
        "check_order_status",
        "take_message",
        "end_call",
    }
    assert "Acme Outfitters" in session["instructions"]


async def test_talking_over_the_agent_clears_cancels_and_truncates_to_what_was_heard(
    tmp_path: Path, fake: FakeRealtime
) -> None:
    fake.script(RealtimeTurn("wait, billing please", FakeReply("Sure.")))
    report = await realtime_call(tmp_path, fake, [Interrupt("Wait, billing please", after_ms=1500)])
    assert report.clears >= 1
    greeting = report.turns[0]
    assert greeting.interrupted
    assert greeting.heard and greeting.heard != greeting.agent
    assert greeting.agent.startswith(greeting.heard)
    [truncation] = fake.truncations
    # The model keeps about as much of the greeting as played before the caller's onset.
    assert 1000 <= truncation.audio_end_ms < truncation.audio_ms


async def test_the_caller_saying_goodbye_ends_the_call_after_the_goodbye_played(
    tmp_path: Path, fake: FakeRealtime, line: PlayAudio
) -> None:
    fake.script(RealtimeTurn("that's all, bye"))
    report = await realtime_call(tmp_path, fake, [line, HangUp(after_ms=20_000)])
    last = report.turns[-1]
    assert [t.name for t in last.tools] == ["end_call"]
    assert last.heard == "Thanks for calling, goodbye!"
    assert report.status == "completed"
    assert any(action["path"].endswith(".json") for action in report.twilio_actions)


@pytest.mark.parametrize("failure", ["refused", "not mu-law"])
async def test_a_model_that_cannot_be_reached_leaves_the_call_to_the_cascade(
    tmp_path: Path, fake: FakeRealtime, line: PlayAudio, failure: str
) -> None:
    if failure == "refused":
        fake.refuse = True
    else:
        fake.output_format = "audio/pcm"
    report = await realtime_call(tmp_path, fake, [line])
    greeting, answered = report.turns
    assert greeting.heard.startswith("Thanks for calling Acme")  # said by the cascade's TTS
    assert answered.caller == INSTANT_TRANSCRIPT
    assert answered.usage is None or answered.usage.provider != "openai-realtime"


async def test_a_session_dropped_mid_call_hands_over_with_the_conversation_so_far(
    tmp_path: Path, fake: FakeRealtime, line: PlayAudio
) -> None:
    fake.drop_after_responses = 2  # the greeting and one answer, then the socket closes
    fake.script(RealtimeTurn("It's order 4572"), RealtimeTurn("and another thing"))
    report = await realtime_call(tmp_path, fake, [line, line, line])
    sources = [(turn.index, turn.source) for turn in report.turns]
    assert sources[:2] == [(0, "greeting"), (1, "speech")]
    bridging = next(turn for turn in report.turns if "one moment" in turn.agent.lower())
    assert bridging.index > 1
    assert report.turns[-1].caller == INSTANT_TRANSCRIPT  # the cascade heard the last line


async def test_a_model_that_never_answers_falls_back_within_the_deadline(
    tmp_path: Path, fake: FakeRealtime, line: PlayAudio
) -> None:
    fake.stall = True
    fake.script(RealtimeTurn("hello?"))
    report = await realtime_call(tmp_path, fake, [line], answer_timeout_ms=800)
    assert any("one moment" in turn.agent.lower() for turn in report.turns)


async def test_with_the_bridges_own_turn_detection_the_bridge_commits_each_turn(
    tmp_path: Path, fake: FakeRealtime, line: PlayAudio
) -> None:
    fake.script(RealtimeTurn("It's order 4572"))
    report = await realtime_call(tmp_path, fake, [line], turn_detection="bridge")
    assert fake.sessions[-1]["audio"]["input"]["turn_detection"] is None
    assert [event["type"] for event in fake.client_events].count("input_audio_buffer.commit") == 1
    assert [t.name for t in report.turns[-1].tools] == ["check_order_status"]
    assert report.turns[-1].latency_ms.endpointing == 600  # the dialplan's turns.silence_ms
    assert 800 <= report.turns[-1].speech_ms <= 1000  # the 900 ms line, by our detector


async def test_a_keyed_order_number_reaches_the_model_as_the_callers_turn(
    tmp_path: Path, fake: FakeRealtime
) -> None:
    report = await realtime_call(tmp_path, fake, [PressKeys("4572#")])
    keyed = next(turn for turn in report.turns if turn.source == "dtmf")
    assert keyed.caller == "(keyed) 4572"
    assert [(t.name, t.arguments) for t in keyed.tools] == [
        ("check_order_status", {"order_id": "4572"})
    ]
    assert "shipped" in keyed.heard


async def test_a_failed_response_hands_the_turn_to_the_cascade(
    tmp_path: Path, fake: FakeRealtime, line: PlayAudio
) -> None:
    fake.fail = True
    report = await realtime_call(tmp_path, fake, [line])
    assert report.turns[0].source == "greeting"
    assert report.turns[0].heard.startswith("Thanks for calling Acme")  # by the cascade
    assert report.turns[-1].caller == INSTANT_TRANSCRIPT
