"""build_agent: the chain follows the dialplan and the configured keys."""

from __future__ import annotations

from bridge.agent.factory import build_agent
from bridge.agent.fallback import FallbackAgent
from bridge.agent.rules import RulesAgent
from bridge.agent.tools import ToolExecutor
from bridge.config import Settings
from tests.agent.llm_rig import CONTEXT, acme


class NoControl:
    async def transfer(
        self, target: str, caller_id: str | None, announcement: str, **details: object
    ) -> None:
        raise AssertionError("no transfer expected")

    async def hang_up(self) -> None:
        raise AssertionError("no hang-up expected")


def agent_for(providers: list[str], **env: str) -> object:
    dialplan = acme(providers=providers)
    settings = Settings(_env_file=None, **env)  # type: ignore[call-arg]
    tools = ToolExecutor(dialplan, NoControl(), None, CONTEXT)
    return build_agent(dialplan, settings, tools, CONTEXT)


def test_no_keys_means_the_rules_agent_alone() -> None:
    assert isinstance(agent_for(["openai", "anthropic", "rules"]), RulesAgent)


def test_a_base_url_alone_enables_an_openai_compatible_server() -> None:
    agent = agent_for(["openai", "rules"], OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    assert isinstance(agent, FallbackAgent)
    assert [type(a).__name__ for a in agent._agents] == ["LlmAgent", "RulesAgent"]


def test_a_base_url_alone_enables_an_anthropic_compatible_server() -> None:
    agent = agent_for(["anthropic", "rules"], ANTHROPIC_BASE_URL="http://127.0.0.1:9")
    assert isinstance(agent, FallbackAgent)
    assert [type(a).__name__ for a in agent._agents] == ["LlmAgent", "RulesAgent"]


def test_the_chain_keeps_the_dialplan_order_and_skips_unconfigured_providers() -> None:
    agent = agent_for(["anthropic", "openai"], ANTHROPIC_API_KEY="k")
    assert isinstance(agent, FallbackAgent)
    assert [a.name for a in agent._agents] == ["anthropic"]  # type: ignore[attr-defined]
