"""Which agent a call gets: the dialplan's provider chain, or the rules agent alone."""

from __future__ import annotations

from typing import TypeVar

from bridge.agent.base import Agent, CallContext
from bridge.agent.fallback import FallbackAgent
from bridge.agent.llm.anthropic_provider import AnthropicProvider
from bridge.agent.llm.base import LlmProvider
from bridge.agent.llm.openai_provider import OpenAIProvider
from bridge.agent.llm_agent import LlmAgent
from bridge.agent.realtime.openai_link import OpenAIRealtimeConnector
from bridge.agent.rules import RulesAgent
from bridge.agent.tools import ToolExecutor, tool_specs
from bridge.config import Settings
from bridge.dialplan.models import Dialplan

T = TypeVar("T")


class LlmClients:
    """The providers' HTTP clients, made once and shared by every call (keep one per app)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._openai: OpenAIProvider | None = None
        self._anthropic: AnthropicProvider | None = None
        self._realtime: OpenAIRealtimeConnector | None = None

    def openai_configured(self) -> bool:
        s = self._settings
        return bool(s.openai_api_key.get_secret_value() or s.openai_base_url)

    def anthropic_configured(self) -> bool:
        s = self._settings
        return bool(s.anthropic_api_key.get_secret_value() or s.anthropic_base_url)

    def openai(self) -> OpenAIProvider:
        if self._openai is None:
            self._openai = OpenAIProvider.from_settings(self._settings)
        return self._openai

    def anthropic(self) -> AnthropicProvider:
        if self._anthropic is None:
            self._anthropic = AnthropicProvider.from_settings(self._settings)
        return self._anthropic

    def realtime(self) -> OpenAIRealtimeConnector:
        """The Realtime API's client (`agent.mode: realtime`), shared by every call."""
        if self._realtime is None:
            self._realtime = OpenAIRealtimeConnector.from_settings(self._settings)
        return self._realtime

    async def aclose(self) -> None:
        for provider in (self._openai, self._anthropic, self._realtime):
            if provider is not None:
                await provider.aclose()


def build_agent(
    dialplan: Dialplan,
    settings: Settings,
    tools: ToolExecutor,
    context: CallContext,
    clients: LlmClients | None = None,
) -> Agent:
    """The dialplan's chain (e.g. OpenAI -> Anthropic -> rules) over the configured providers.

    Providers without a key (or base URL) are left out; with none left, the rules agent
    answers alone. Pass the app's `LlmClients` so calls share connections.
    """
    clients = clients or LlmClients(settings)
    agent_settings = dialplan.agent
    specs = tool_specs(dialplan, outbound=context.outbound)
    chain: list[Agent] = []
    providers = 0  # LLM providers configured for this line
    for name in agent_settings.providers:
        provider: LlmProvider
        if name == "openai" and clients.openai_configured():
            provider, model = clients.openai(), agent_settings.openai_model
        elif name == "anthropic" and clients.anthropic_configured():
            provider, model = clients.anthropic(), agent_settings.anthropic_model
        elif name == "rules":
            chain.append(RulesAgent(dialplan, tools))
            continue
        else:
            continue
        providers += 1
        chain.append(
            LlmAgent(
                provider,
                tools,
                specs,
                dialplan,
                context,
                model=model or provider.default_model(),
                temperature=_or(agent_settings.temperature, settings.llm_temperature),
                max_tokens=_or(agent_settings.max_tokens, settings.llm_max_tokens),
            )
        )
    if not providers:
        return RulesAgent(dialplan, tools)
    return FallbackAgent(chain, dialplan, tools)


def _or(value: T | None, default: T) -> T:
    return default if value is None else value
