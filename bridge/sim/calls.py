"""One simulated call placed into a bridge, as Twilio would, with a fake Twilio API watching."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bridge.sim.caller import SimulatedCaller
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.sim.report import CallReport
from bridge.sim.script import Step
from bridge.speech.base import TextToSpeech


@dataclass
class TwilioSide:
    """What the simulated Twilio knows: where the bridge is and the account's credentials."""

    bridge_url: str
    account_sid: str
    auth_token: str
    admin_token: str
    api: FakeTwilioApi


def fresh_credentials() -> tuple[str, str]:
    """A fresh account SID and auth token, so signatures are real but nothing is secret."""
    return "AC" + secrets.token_hex(16), secrets.token_hex(16)


async def place_call(
    twilio: TwilioSide,
    script: list[Step],
    tts: TextToSpeech,
    *,
    caller: str = "+15555550123",
    called: str = "+15555550100",
    speed: float = 1.0,
    recordings_dir: Path | None = None,
    on_print: Callable[[str], None] | None = None,
) -> CallReport:
    """Play one caller into the bridge and report what happened, as Twilio would see it."""
    ended_by_bridge = asyncio.Event()
    sim = SimulatedCaller(
        twilio.bridge_url,
        twilio.auth_token,
        twilio.account_sid,
        tts,
        caller=caller,
        called=called,
        speed=speed,
        admin_token=twilio.admin_token,
        call_ended_by_bridge=ended_by_bridge,
        recordings_dir=recordings_dir,
        on_print=on_print,
    )

    async def watch() -> None:
        await twilio.api.wait_for_update(sim.call_sid)
        ended_by_bridge.set()

    watcher = asyncio.create_task(watch())
    try:
        report = await sim.run(script)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
    report.twilio_actions = [
        {key: action[key] for key in ("method", "path", "params")}
        for action in twilio.api.actions(sim.call_sid)
    ]
    return report
