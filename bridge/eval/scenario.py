"""A conversation scenario: a YAML file of caller steps, the agent's pace, turn settings.

```yaml
name: order-id-after-a-pause
description: the caller stops mid-sentence before reading the order number
agent: rules            # rules | llm (the LLM agent, on a local fake OpenAI server)
llm: {first_token_ms: 300, tokens_per_s: 50}
turns: {incomplete_ms: 1800}   # overrides of the dialplan's `turns`
faults: {tts: hang}   # the speech vendor: stt/tts none | fail (500 at once) | hang (never answers)
steps:
  - say: "It's order [pause 1200ms] 4 5 7 2."
  - overlay: cough       # cough | noise | babble | words ("mm-hmm"), over the agent
    after_ms: 800
  - quiet: 6000
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bridge.dialplan.models import TurnSettings
from bridge.sim.fake_speech import Fault
from bridge.sim.script import HangUp, Interrupt, Overlay, PlayAudio, PressKeys, Quiet, Say, Step
from bridge.sim.sounds import PAUSE

SHIPPED = Path(__file__).parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario file that cannot be read or does not validate."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepSpec(Strict):
    """One caller step: exactly one of the action keys, with its timing."""

    say: str | None = None
    audio: Path | None = None
    keys: str | None = None
    interrupt: str | None = None
    overlay: str | None = None
    quiet: int | None = Field(default=None, ge=0, le=120_000)
    hang_up: int | None = Field(default=None, ge=0, le=120_000)
    after_ms: int = Field(default=600, ge=0, le=60_000)  # interrupt/overlay: into the reply
    ms: int = Field(default=1000, ge=20, le=60_000)  # overlay noise/babble length

    @model_validator(mode="after")
    def _one_action(self) -> StepSpec:
        actions = [
            k
            for k in ("say", "audio", "keys", "interrupt", "overlay", "quiet", "hang_up")
            if getattr(self, k) is not None
        ]
        if len(actions) != 1:
            raise ValueError(f"a step has exactly one action, got {actions or 'none'}")
        return self

    def step(self, folder: Path) -> Step:
        if self.say is not None:
            return Say(self.say)
        if self.audio is not None:
            return PlayAudio(self.audio if self.audio.is_absolute() else folder / self.audio)
        if self.keys is not None:
            return PressKeys(self.keys)
        if self.interrupt is not None:
            return Interrupt(self.interrupt, self.after_ms)
        if self.overlay is not None:
            return Overlay(self.overlay, self.after_ms, self.ms)
        if self.quiet is not None:
            return Quiet(self.quiet)
        return HangUp(self.hang_up or 0)

    @property
    def has_pause(self) -> bool:
        return self.say is not None and PAUSE.search(self.say) is not None


class LlmPace(Strict):
    first_token_ms: int = Field(default=300, ge=0, le=120_000)
    tokens_per_s: float = Field(default=50, ge=0)


class SpeechFaults(Strict):
    """What the speech vendor does during the scenario's calls (after the bridge started and
    kept its fixed phrases): speech then goes through a stand-in of OpenAI's audio API."""

    stt: Fault = "none"
    tts: Fault = "none"

    @property
    def any(self) -> bool:
        return (self.stt, self.tts) != ("none", "none")


class Scenario(Strict):
    name: str
    description: str = ""
    caller: str = "+15035550142"  # the phone on order 4572: its status is read without a ZIP
    to: str = "+15555550100"
    agent: Literal["rules", "llm"] = "rules"
    llm: LlmPace = Field(default_factory=LlmPace)
    turns: dict[str, Any] = Field(default_factory=dict)
    faults: SpeechFaults = Field(default_factory=SpeechFaults)
    steps: list[StepSpec] = Field(min_length=1)
    source: Path = Path()

    @model_validator(mode="after")
    def _turns_are_turn_settings(self) -> Scenario:
        TurnSettings.model_validate(self.turns)  # unknown keys and bad values fail here
        return self

    def script(self) -> list[Step]:
        return [spec.step(self.source.parent) for spec in self.steps]


def load_scenario(path: Path) -> Scenario:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path}: {error}") from error
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a mapping (name, steps, ...)")
    try:
        return Scenario.model_validate({**data, "source": path})
    except ValidationError as error:
        raise ScenarioError(f"{path}: {error}") from error


def shipped_scenarios() -> list[Path]:
    return sorted(SHIPPED.glob("*.yaml"))
