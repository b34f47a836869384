"""Plays scenarios through an in-process bridge (as `bridge demo` does), on the real server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Literal

from pydantic import SecretStr

from bridge.config import Settings
from bridge.demo.local import LocalBridge, local_bridge
from bridge.dialplan.loader import DialplanSet
from bridge.dialplan.models import TurnSettings
from bridge.eval.scenario import Scenario
from bridge.eval.score import ScenarioScore, score
from bridge.openai_client import openai_client
from bridge.sim.calls import place_call
from bridge.sim.fake_llm import FakeLlm, Pace
from bridge.sim.fake_speech import FakeSpeechApi
from bridge.sim.report import CallReport
from bridge.speech.factory import SpeechModels, load_speech
from bridge.speech.openai_speech import OpenAISTT, OpenAITTS

Agent = Literal["rules", "llm"]


class Bridges:
    """One bridge per agent kind (and speech: local, or through the faulty stand-in), sharing
    one set of speech models, made when first needed."""

    def __init__(self, settings: Settings, stack: AsyncExitStack, speech: SpeechModels) -> None:
        self._settings = settings
        self._stack = stack
        self._speech = speech
        self._bridges: dict[tuple[Agent, bool], LocalBridge] = {}
        self.llm: FakeLlm | None = None
        self.speech = speech
        self.vendor: FakeSpeechApi | None = None  # the stand-in speech vendor, once needed

    async def get(self, agent: Agent, faulty_speech: bool = False) -> LocalBridge:
        key = (agent, faulty_speech)
        if key not in self._bridges:
            settings = self._settings.model_copy(
                update={"openai_api_key": SecretStr(""), "anthropic_api_key": SecretStr("")}
            )
            if agent == "llm":
                if self.llm is None:
                    self.llm = await self._stack.enter_async_context(FakeLlm())
                settings = settings.model_copy(
                    update={
                        "openai_api_key": SecretStr("sk-fake"),
                        "openai_base_url": self.llm.openai_base_url,
                    }
                )
            speech = await self._vendor_speech(settings) if faulty_speech else self._speech
            self._bridges[key] = await self._stack.enter_async_context(
                local_bridge(settings, speech)
            )
        return self._bridges[key]

    async def _vendor_speech(self, settings: Settings) -> SpeechModels:
        """Speech through the stand-in vendor (voiced by the local models) on the real client."""
        if self.vendor is None:
            self.vendor = FakeSpeechApi(self._speech.stt, self._speech.tts)
            await self._stack.enter_async_context(self.vendor)
        client = openai_client(settings, self.vendor.base_url)
        self._stack.push_async_callback(client.close)
        # Lent to the bridge, so never closed: the pool is the local models' own.
        return SpeechModels(
            self._speech.pool, OpenAISTT(client), OpenAITTS(client), self._speech.turn_model
        )


@asynccontextmanager
async def bridges(settings: Settings, speech: SpeechModels | None = None) -> AsyncIterator[Bridges]:
    """Bridges on loopback; their speech models loaded here unless lent (then not closed)."""
    models = speech or load_speech(settings)
    try:
        if speech is None:
            await models.warm_up()
        async with AsyncExitStack() as stack:
            yield Bridges(settings, stack, models)
    finally:
        if speech is None:
            models.close()


def _with_turns(dialplans: DialplanSet, overrides: dict[str, object]) -> DialplanSet:
    return DialplanSet(
        tuple(
            dialplan.model_copy(
                update={
                    "turns": TurnSettings.model_validate(
                        {**dialplan.turns.model_dump(), **overrides}
                    )
                }
            )
            for dialplan in dialplans
        )
    )


async def run_scenario(
    scenario: Scenario,
    pool: Bridges,
    *,
    repeat: int = 1,
    turns: dict[str, object] | None = None,
    speed: float = 1.0,
    on_print: Callable[[str], None] | None = None,
) -> ScenarioScore:
    """Place the scenario's call `repeat` times; `turns` overrides every scenario's own."""
    faults = scenario.faults
    bridge = await pool.get(scenario.agent, faulty_speech=faults.any)
    if pool.llm is not None:
        pool.llm.pace = Pace(
            first_token_s=scenario.llm.first_token_ms / 1000,
            tokens_per_s=scenario.llm.tokens_per_s,
        )
    services = bridge.services
    loaded = services.dialplans
    services.dialplans = _with_turns(loaded, {**scenario.turns, **(turns or {})})
    if pool.vendor is not None:
        pool.vendor.stt_fault, pool.vendor.tts_fault = faults.stt, faults.tts
    reports: list[CallReport] = []
    try:
        for _ in range(repeat):
            reports.append(
                await place_call(
                    bridge.twilio,
                    scenario.script(),
                    pool.speech.caller_tts,  # the caller's voice never fails
                    caller=scenario.caller,
                    called=scenario.to,
                    speed=speed,
                    on_print=on_print,
                )
            )
    finally:
        services.dialplans = loaded
        if pool.vendor is not None:
            pool.vendor.stt_fault = pool.vendor.tts_fault = "none"
    return score(scenario, reports)
