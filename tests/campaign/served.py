"""Campaigns run by real `bridge serve` processes: the fake Twilio API and its callees live in
the test's process (so they see every `calls.create`, whichever bridge made it), the bridges
use instant speech and are driven over their HTTP API with the admin token."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from bridge.sim.callee import Callee, CalleePlayer
from bridge.sim.calls import fresh_credentials
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.speech.instant import InstantTTS
from tests.deploy.cluster import REPO, BridgeProcess

WAIT_S = 90.0
T = TypeVar("T")


@dataclass
class TwilioHere:
    api: FakeTwilioApi
    account_sid: str
    auth_token: str
    admin_token: str

    def bridge(self, name: str, folder: Path, **env: str) -> BridgeProcess:
        """A `bridge serve` (not started) whose webhooks come back to its own port."""
        process = BridgeProcess(name, {}, folder / f"bridge-{name}.log")
        process.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "OPENAI_"))},
            "HF_HUB_OFFLINE": "1",
            "PUBLIC_BASE_URL": process.url,
            "TWILIO_ACCOUNT_SID": self.account_sid,
            "TWILIO_AUTH_TOKEN": self.auth_token,
            "TWILIO_API_BASE_URL": self.api.url,
            "BRIDGE_ADMIN_TOKEN": self.admin_token,
            "DIALPLANS_DIR": str(REPO / "dialplans"),
            "BRIDGE_DATA_DIR": str(folder / f"data-{name}"),
            "STT_PROVIDER": "instant",
            "TTS_PROVIDER": "instant",
            **env,
        }
        return process

    def http(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.admin_token}"})


@asynccontextmanager
async def twilio_here() -> AsyncIterator[TwilioHere]:
    """The fake API; every number is a person who answers and hears the opening line out."""
    account_sid, auth_token = fresh_credentials()
    admin_token = secrets.token_hex(16)
    async with FakeTwilioApi(account_sid, auth_token) as api:
        api.player = CalleePlayer(
            account_sid,
            auth_token,
            InstantTTS(),
            speed=4.0,
            default=Callee(lines=(), ring_ms=300),
            admin_token=admin_token,
        )
        yield TwilioHere(api, account_sid, auth_token, admin_token)


async def create_campaign(
    http: aiohttp.ClientSession, bridge_url: str, phones: list[str], **settings: Any
) -> str:
    rows = "".join(f"{phone},Dana,{4570 + i}\n" for i, phone in enumerate(phones))
    body = {"dialplan": "acme", "hours": "00:00-23:59", **settings}
    body["contacts_csv"] = "phone,name,order_id\n" + rows
    async with http.post(f"{bridge_url}/api/campaigns", json=body) as response:
        assert response.status == 201, await response.text()
        return str((await response.json())["campaign_id"])


async def finished_results(
    http: aiohttp.ClientSession, bridge_url: str, campaign_id: str
) -> list[dict[str, Any]]:
    """The campaign's results once it is done."""
    base = f"{bridge_url}/api/campaigns/{campaign_id}"

    async def done() -> bool:
        async with http.get(base) as response:
            return bool((await response.json())["status"] == "done")

    await until(done, f"campaign {campaign_id} done")
    async with http.get(f"{base}/results?format=json") as response:
        lines: list[dict[str, Any]] = await response.json()
    return lines


async def until(check: Callable[[], Awaitable[T]], what: str, timeout_s: float = WAIT_S) -> T:
    """Poll `check()` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")
