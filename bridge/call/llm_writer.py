"""One-off writing by the dialplan's LLM chain, outside the conversation: a transfer's brief
for the human, the summary and fields after the call. The providers are tried in the
dialplan's order (those without a key left out); None when none is configured or all fail,
so the caller of `write` falls back to its rules."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bridge.agent.base import Message
from bridge.agent.factory import LlmClients
from bridge.agent.llm.base import LlmError, LlmProvider, LlmRequest, TextChunk, TokenUsage
from bridge.agent.llm.pricing import estimate_cost
from bridge.dialplan.models import Dialplan
from bridge.records import TurnUsage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Written:
    text: str
    usage: TurnUsage


class LlmWriter:
    def __init__(self, clients: LlmClients) -> None:
        self._clients = clients

    def providers(self, dialplan: Dialplan) -> list[tuple[LlmProvider, str]]:
        """The dialplan's configured LLM providers, in order, with the model each uses."""
        chain: list[tuple[LlmProvider, str]] = []
        settings = dialplan.agent
        for name in settings.providers:
            if name == "openai" and self._clients.openai_configured():
                provider: LlmProvider = self._clients.openai()
                chain.append((provider, settings.openai_model or provider.default_model()))
            elif name == "anthropic" and self._clients.anthropic_configured():
                provider = self._clients.anthropic()
                chain.append((provider, settings.anthropic_model or provider.default_model()))
        return chain

    async def write(
        self,
        dialplan: Dialplan,
        system: str,
        prompt: str,
        *,
        max_tokens: int = 300,
        timeout_s: float = 10.0,
    ) -> Written | None:
        for provider, model in self.providers(dialplan):
            request = LlmRequest(
                system=system,
                messages=[Message(role="caller", text=prompt)],
                model=model,
                temperature=0.0,
                max_tokens=max_tokens,
                timeout_s=timeout_s,
            )
            try:
                async with asyncio.timeout(timeout_s):
                    return await _complete(provider, request)
            except (LlmError, TimeoutError) as exc:
                log.warning("%s could not write (%s): trying the next", provider.name, exc)
        return None


async def _complete(provider: LlmProvider, request: LlmRequest) -> Written:
    text: list[str] = []
    usage = TurnUsage(provider=provider.name, model=request.model)
    async for event in provider.stream(request):
        if isinstance(event, TextChunk):
            text.append(event.text)
        elif isinstance(event, TokenUsage):
            usage.prompt_tokens += event.prompt_tokens
            usage.completion_tokens += event.completion_tokens
    usage.cost_usd = estimate_cost(request.model, usage.prompt_tokens, usage.completion_tokens)
    written = "".join(text).strip()
    if not written:
        raise LlmError("bad_request", "the model wrote nothing")
    return Written(written, usage)
