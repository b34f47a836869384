"""A bridge and a fake Twilio API on loopback, in this process: for `bridge call`, demos, tests."""

from __future__ import annotations

import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from pydantic import SecretStr

from bridge.app import create_app
from bridge.config import Settings
from bridge.console import register_console
from bridge.http_limits import runner_options
from bridge.services import Services, build_services
from bridge.sim.calls import TwilioSide, fresh_credentials
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.speech.factory import SpeechModels
from bridge.twilio.accept import GatedAppRunner, GatedSite


@dataclass
class LocalBridge:
    twilio: TwilioSide
    services: Services


@asynccontextmanager
async def local_bridge(
    settings: Settings | None = None,
    speech: SpeechModels | None = None,
    credentials: tuple[str, str] | None = None,
) -> AsyncIterator[LocalBridge]:
    """Serve a bridge on a free loopback port, its Twilio REST calls going to a local fake.

    `credentials` (account SID, auth token): the same for several bridges, as instances of
    one deployment share them; fresh ones by default.
    """
    account_sid, auth_token = credentials or fresh_credentials()
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
        app = create_app(services)
        register_console(app, services)
        runner = GatedAppRunner(
            app,
            settings.trusted_proxy_networks,
            settings.tarpit_hold_s,
            handle_signals=False,
            **runner_options(settings),
        )
        await runner.setup()
        await GatedSite(runner, sock=sock).start()
        yield LocalBridge(TwilioSide(url, account_sid, auth_token, admin_token, api), services)
    finally:
        if runner is not None:
            await runner.cleanup()
        sock.close()
        await api.close()
