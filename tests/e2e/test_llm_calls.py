"""Calls through the simulator with the LLM agent: the real openai and anthropic clients
talking to a local server that speaks their streaming wire formats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.config import Settings
from bridge.demo.local import local_bridge
from bridge.sim.calls import place_call
from bridge.sim.fake_llm import FakeLlm, FakeReply, Pace
from bridge.sim.script import Say
from bridge.speech.factory import SpeechModels
from tests.e2e.pace import SPEED
from tests.support.bridges import bridge_settings

pytestmark = pytest.mark.models

FAILURES = [FakeReply(status=500)] * 12


@pytest.fixture
async def llm() -> AsyncIterator[FakeLlm]:
    async with FakeLlm(Pace(first_token_s=0.05)) as server:
        yield server


def llm_settings(tmp_path: Path, llm: FakeLlm, dialplans: Path | None = None) -> Settings:
    return bridge_settings(tmp_path, dialplans).model_copy(
        update=Settings(  # type: ignore[call-arg]
            _env_file=None,
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=llm.openai_base_url,
            ANTHROPIC_API_KEY="test-key",
            ANTHROPIC_BASE_URL=llm.anthropic_base_url,
        ).model_dump(
            include={"openai_api_key", "openai_base_url", "anthropic_api_key", "anthropic_base_url"}
        )
    )


# The caller of order 4572 in the shipped orders file: the order is theirs to hear.
CUSTOMER = "+15035550142"


async def run(settings: Settings, speech: SpeechModels, *lines: str):
    async with local_bridge(settings, speech) as bridge:
        return await place_call(
            bridge.twilio,
            [Say(line) for line in lines],
            speech.caller_tts,
            speed=SPEED,
            caller=CUSTOMER,
        )


def tools(report) -> list:
    return [tool for turn in report.turns for tool in turn.tools]


def apis(llm: FakeLlm) -> list[str]:
    return [api for api, _ in llm.requests]


async def test_llm_agent_checks_an_order_through_the_tool(
    tmp_path: Path, speech: SpeechModels, llm: FakeLlm
) -> None:
    report = await run(llm_settings(tmp_path, llm), speech, "Can you check order 4 5 7 2?")
    called = tools(report)
    assert [tool.name for tool in called] == ["check_order_status"]
    assert called[0].arguments == {"order_id": "4572"}
    assert "shipped" in report.turns[-1].heard.lower()
    assert set(apis(llm)) == {"openai"}
    assert report.turns[-1].usage is not None
    assert report.turns[-1].usage.prompt_tokens > 0


async def test_llm_agent_transfers_through_the_tool(
    tmp_path: Path, speech: SpeechModels, llm: FakeLlm
) -> None:
    report = await run(llm_settings(tmp_path, llm), speech, "The billing department, please.")
    assert [tool.name for tool in tools(report)] == ["transfer_call"]
    assert len(report.twilio_actions) == 1
    assert "<Number>+15555550130</Number>" in report.twilio_actions[0]["params"]["Twiml"]
    assert report.status == "transferred"


async def test_a_failing_provider_fails_over_to_the_next(
    tmp_path: Path, speech: SpeechModels, llm: FakeLlm
) -> None:
    llm.script("openai", *FAILURES)
    report = await run(llm_settings(tmp_path, llm), speech, "Can you check order 4 5 7 2?")
    assert "anthropic" in apis(llm)
    assert [tool.name for tool in tools(report)] == ["check_order_status"]
    assert "shipped" in report.turns[-1].heard.lower()


async def test_the_rules_agent_answers_when_every_llm_fails(
    tmp_path: Path, speech: SpeechModels, llm: FakeLlm
) -> None:
    llm.script("openai", *FAILURES)
    llm.script("anthropic", *FAILURES)
    report = await run(llm_settings(tmp_path, llm), speech, "Can you check order 4 5 7 2?")
    assert [tool.name for tool in tools(report)] == ["check_order_status"]
    assert "shipped" in report.turns[-1].heard.lower()


async def test_tiered_spoken_fallbacks_when_no_provider_can_answer(
    tmp_path: Path, speech: SpeechModels, llm: FakeLlm, custom_dialplans: Path
) -> None:
    acme = custom_dialplans / "acme.yaml"
    acme.write_text(
        acme.read_text()
        + "agent:\n  providers: [openai, anthropic]\n  fallback:\n    human_department: support\n"
    )
    llm.script("openai", *FAILURES * 3)
    llm.script("anthropic", *FAILURES * 3)
    report = await run(
        llm_settings(tmp_path, llm, custom_dialplans),
        speech,
        "Hello, is anyone there?",
        "Hello? Can you hear me?",
        "I need some help please.",
    )
    heard = [turn.heard.lower() for turn in report.turns if turn.source == "speech"]
    assert "again" in heard[0]
    assert "hold" in heard[1]
    assert len(report.twilio_actions) == 1
    assert (
        "<Sip>sip:support@acme-outfitters.sip.twilio.com?X-CallSid="
        in (report.twilio_actions[0]["params"]["Twiml"])
    )
    assert report.status == "transferred"
