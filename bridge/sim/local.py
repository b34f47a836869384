"""A bridge and a fake Twilio API on loopback, in this process: for `bridge call`, demos, tests."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from pydantic import SecretStr

from bridge.app import create_app
from bridge.config import Settings
from bridge.services import Services, build_services
from bridge.sim.caller import SimulatedCaller
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.sim.report import CallReport
from bridge.sim.script import Step
from bridge.speech.base import TextToSpeech
from bridge.speech.factory import SpeechModels


@dataclass
class TwilioSide:
    """What the simulated Twilio knows: where the bridge is and the account's credentials."""

    bridge_url: str
    account_sid: str
    auth_token: str
    admin_token: str
    api: FakeTwilioApi


@dataclass
class LocalBridge:
    twilio: TwilioSide
    services: Services


def fresh_credentials() -> tuple[str, str]:
    """A fresh account SID and auth token, so signatures are real but nothing is secret."""
    return "AC" + secrets.token_hex(16), secrets.token_hex(16)


@asynccontextmanager
async def local_bridge(
    settings: Settings | None = None, speech: SpeechModels | None = None
) -> AsyncIterator[LocalBridge]:
    """Serve a bridge on a free loopback port, its Twilio REST calls going to a local fake."""
    account_sid, auth_token = fresh_credentials()
    admin_token = secrets.token_hex(16)
    api = FakeTwilioApi(account_sid, auth_token)
    await api.start()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = (settings or Settings()).model_copy(
        update={
            "public_base_url": url,
            "twilio_account_sid": account_sid,
            "twilio_auth_token": SecretStr(auth_token),
            "twilio_api_base_url": api.url,
            "admin_token": SecretStr(admin_token),
        }
    )
    runner: web.AppRunner | None = None
    try:
        services = await build_services(settings, speech)
        runner = web.AppRunner(create_app(services), handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        yield LocalBridge(TwilioSide(url, account_sid, auth_token, admin_token, api), services)
    finally:
        if runner is not None:
            await runner.cleanup()
        sock.close()
        await api.stop()


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
