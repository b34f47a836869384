"""A `bridge serve` process killed (SIGKILL) in the middle of a campaign and started again:
the campaign carries on to the end, and no contact is dialled twice.

The bridge runs in its own process with instant speech; the fake Twilio API and its callees
run here, so they see every `calls.create` whichever process made it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from bridge.sim.callee import Callee, CalleePlayer
from bridge.sim.calls import fresh_credentials
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.speech.instant import InstantTTS
from tests.deploy.cluster import REPO, BridgeProcess

CONTACTS = 8
WAIT_S = 90.0


def bridge_env(
    url: str, api: FakeTwilioApi, credentials: tuple[str, str], admin_token: str, data: Path
) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "OPENAI_"))},
        "HF_HUB_OFFLINE": "1",
        "PUBLIC_BASE_URL": url,
        "TWILIO_ACCOUNT_SID": credentials[0],
        "TWILIO_AUTH_TOKEN": credentials[1],
        "TWILIO_API_BASE_URL": api.url,
        "BRIDGE_ADMIN_TOKEN": admin_token,
        "DIALPLANS_DIR": str(REPO / "dialplans"),
        "BRIDGE_DATA_DIR": str(data),
        "STT_PROVIDER": "instant",
        "TTS_PROVIDER": "instant",
    }


def contacts_csv(phones: list[str]) -> str:
    return "phone,name,order_id\n" + "".join(f"{p},Dana,{4570 + i}\n" for i, p in enumerate(phones))


async def until(check: Any, what: str, timeout_s: float = WAIT_S) -> Any:
    """Poll `check()` (a coroutine function) until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")


async def test_sigkill_mid_campaign_then_restart_resumes_it_and_dials_no_contact_twice(
    tmp_path: Path,
) -> None:
    account_sid, auth_token = fresh_credentials()
    admin_token = secrets.token_hex(16)
    phones = [f"+1212555{2000 + i}" for i in range(CONTACTS)]
    async with FakeTwilioApi(account_sid, auth_token) as api:
        # Each callee answers and hears the opening line out: calls are live at the kill.
        api.player = CalleePlayer(
            account_sid,
            auth_token,
            InstantTTS(),
            speed=4.0,
            default=Callee(lines=(), ring_ms=300),
            admin_token=admin_token,
        )
        server = BridgeProcess("crash", {}, tmp_path / "bridge.log")
        server.env = bridge_env(
            server.url, api, (account_sid, auth_token), admin_token, tmp_path / "data"
        )
        headers = {"Authorization": f"Bearer {admin_token}"}
        body = {
            "dialplan": "acme", "hours": "00:00-23:59", "max_live": 3, "rate_per_s": 20,
            "retry_delay_s": 0, "max_attempts": 2, "contacts_csv": contacts_csv(phones),
        }  # fmt: skip
        await server.start()
        try:
            async with aiohttp.ClientSession(headers=headers) as http:
                base = f"{server.url}/api/campaigns"
                async with http.post(base, json=body) as response:
                    assert response.status == 201, await response.text()
                    campaign_id = (await response.json())["campaign_id"]

                async def three_placed() -> bool:
                    return len(api.placed) >= 3

                await until(three_placed, "three calls placed")
                server.kill()  # SIGKILL: no shutdown code runs
                placed_before = len(api.placed)
                await server.start()  # the same data and instance: the restart tidies up

                async def done() -> dict[str, Any] | None:
                    async with http.get(f"{base}/{campaign_id}") as response:
                        status = await response.json()
                    return status if status["status"] == "done" else None

                await until(done, "the campaign done after the restart")
                async with http.get(f"{base}/{campaign_id}/results?format=json") as response:
                    lines = await response.json()
        finally:
            server.kill()
    dialled = Counter(placed.to for placed in api.placed.values())
    print(f"crash: {placed_before} calls before SIGKILL, {len(api.placed)} in all; {dialled}")
    assert max(dialled.values()) == 1, server.log()
    assert len(api.placed) > placed_before  # the restarted bridge went on dialling
    assert sorted(line["phone"] for line in lines) == phones
    for line in lines:
        # Answered and ended, or cut by the crash (live, or claimed but never dialled).
        assert line["outcome"] in ("human", "interrupted"), line
        assert line["attempts"] == 1
        if line["outcome"] == "human":
            assert dialled[line["phone"]] == 1
