"""`bridge demo --realtime`: the demo call answered by the local Realtime stand-in.

Every dialplan is copied with `agent.mode: realtime`; the stand-in hears the caller with the
local speech-to-text and answers in the local voice, so the call sounds like the real thing
while the bridge's realtime path (tools, marks, truncation, records) runs for real.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

from bridge.config import Settings
from bridge.demo.local import local_bridge
from bridge.dialplan.models import VoiceSettings
from bridge.sim.calls import place_call
from bridge.sim.fake_realtime import FakeRealtime
from bridge.sim.report import CallReport
from bridge.sim.script import Step
from bridge.speech.factory import load_speech

# The stand-in answers this long after the caller's turn ended (a real model: 300-800 ms).
STAND_IN_DELAY_S = 0.3


def realtime_dialplans(source: Path, target: Path) -> Path:
    """A copy of `source` (data files included) with every dialplan in realtime mode."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.rglob("*"):
        copy = target / path.relative_to(source)
        if path.is_dir():
            copy.mkdir(exist_ok=True)
        elif path.suffix in (".yaml", ".yml"):
            plan: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            agent = plan.setdefault("agent", {})
            agent["mode"] = "realtime"
            # The stand-in hears each turn with local speech-to-text before it answers: on a
            # busy machine that alone can take seconds, which is no failure of the bridge.
            agent.setdefault("realtime", {}).setdefault("answer_timeout_ms", 20000)
            copy.write_text(yaml.safe_dump(plan), encoding="utf-8")
        else:
            copy.write_bytes(path.read_bytes())
    return target


async def run_realtime_demo(
    settings: Settings, steps: list[Step], times: int, **options: Any
) -> list[CallReport]:
    """Place the demo `times` times against one bridge and one stand-in (models loaded once)."""
    speech = load_speech(settings)
    await speech.warm_up()
    try:
        with tempfile.TemporaryDirectory(prefix="bridge-realtime-") as folder:
            plans = realtime_dialplans(settings.dialplans_dir, Path(folder))
            async with FakeRealtime(delay_s=STAND_IN_DELAY_S) as stand_in:
                stand_in.stt = speech.stt
                stand_in.tts = speech.tts_for(VoiceSettings())
                realtime = settings.model_copy(
                    update={
                        "dialplans_dir": plans,
                        "openai_realtime_base_url": stand_in.openai_base_url,
                    }
                )
                async with local_bridge(realtime, speech) as bridge:
                    return [
                        await place_call(bridge.twilio, steps, speech.caller_tts, **options)
                        for _ in range(times)
                    ]
    finally:
        speech.close()
