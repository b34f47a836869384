"""`/healthz` and `/readyz` over HTTP against the real app."""

from __future__ import annotations

import aiohttp

from bridge.demo.local import LocalBridge


async def get_json(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def test_ready_when_speech_and_store_answer(instant_bridge: LocalBridge) -> None:
    status, body = await get_json(instant_bridge.twilio.bridge_url + "/readyz")
    assert status == 200
    assert body["checks"] == {"speech": "ok", "store": "ok", "draining": "ok"}
    assert body["instance"] == "test-instance"


async def test_draining_instance_is_alive_but_not_ready(instant_bridge: LocalBridge) -> None:
    instant_bridge.services.draining = True
    ready_status, ready = await get_json(instant_bridge.twilio.bridge_url + "/readyz")
    alive_status, _ = await get_json(instant_bridge.twilio.bridge_url + "/healthz")
    assert ready_status == 503
    assert ready["checks"]["draining"] == "draining"  # type: ignore[index]
    assert alive_status == 200


async def test_unreachable_store_makes_the_instance_not_ready(instant_bridge: LocalBridge) -> None:
    await instant_bridge.services.store.close()
    status, body = await get_json(instant_bridge.twilio.bridge_url + "/readyz")
    assert status == 503
    assert body["checks"]["store"] == "unreachable"  # type: ignore[index]
