"""After-call webhooks: signed, retried with backoff, delivered exactly once, dead-lettered when
the receiver stays down, and delivered later by `bridge webhooks retry` (from the store, so a
restart loses nothing)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from bridge.call.after_call import MAX_ATTEMPTS, WebhookCourier
from bridge.config import Settings
from bridge.dialplan.loader import load_dialplans
from bridge.records import CallRecord, TurnRecord
from bridge.sim.local_server import LocalServer
from bridge.store import CallStore, open_store

KEY = "k" * 32
CALL = "CA" + "5" * 32


class Receiver(LocalServer):
    """A CRM's webhook endpoint that fails its first `failures` requests."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.tries = 0
        self.accepted: list[dict] = []

    def _routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/hook", self._hook)

    async def _hook(self, request: web.Request) -> web.Response:
        self.tries += 1
        body = await request.text()
        stamp, mac = (
            part.split("=", 1)[1] for part in request.headers["X-Bridge-Signature"].split(",")
        )
        expected = hmac.new(KEY.encode(), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
        assert hmac.compare_digest(mac, expected)
        if self.tries <= self.failures:
            return web.Response(status=503)
        self.accepted.append(json.loads(body))
        return web.Response(status=204)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CRM_WEBHOOK_KEY", KEY)
    return Settings(_env_file=None, BRIDGE_DATA_DIR=tmp_path / "data")  # type: ignore[call-arg]


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[CallStore]:
    opened = await open_store(settings)
    yield opened
    await opened.close()


async def ended_call(store: CallStore) -> None:
    turn = TurnRecord(index=0, caller="Where is my order?", agent="It shipped.")
    await store.open_call(CallRecord(call_sid=CALL, dialplan="crm", turns=[turn]))
    await store.close_call(CALL, "completed", "caller hung up")


def courier_for(tmp_path: Path, store: CallStore, url: str) -> WebhookCourier:
    (tmp_path / "plans").mkdir(exist_ok=True)
    (tmp_path / "plans" / "crm.yaml").write_text(
        f"name: crm\nafter_call: {{webhook_url: '{url}', webhook_secret_env: CRM_WEBHOOK_KEY}}\n"
    )
    plans = load_dialplans(tmp_path / "plans")
    return WebhookCourier(
        store, plans, lambda sid: f"https://b/{sid}.wav", backoff_s=0.01, poll_s=0.02
    )


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110 (the store has no change signal)
            await asyncio.sleep(0.05)


async def test_a_receiver_failing_three_times_gets_the_call_exactly_once(
    tmp_path: Path, store: CallStore
) -> None:
    async with Receiver(failures=3) as receiver:
        await ended_call(store)
        courier = courier_for(tmp_path, store, receiver.url + "/hook")
        running = courier.run(None)
        await anext(running)
        courier.call_over(CALL)

        async def delivered() -> bool:
            return bool(await store.outbox.with_status("delivered"))

        await until(delivered)
        await asyncio.sleep(0.2)  # no late duplicate
        await running.aclose()
    assert receiver.tries == 4
    [sent] = receiver.accepted
    assert sent["call"]["call_sid"] == CALL and sent["outcome"] == "completed"
    assert sent["disposition"] == "resolved"
    assert sent["summary"] == "Caller said: Where is my order?."
    assert sent["usage"]["llm_cost_usd"] == 0 and sent["recording_url"] is None


async def test_a_receiver_that_stays_down_is_dead_lettered_then_retried_from_the_cli(
    tmp_path: Path, settings: Settings, store: CallStore
) -> None:
    async with Receiver(failures=10**6) as down:
        await ended_call(store)
        courier = courier_for(tmp_path, store, down.url + "/hook")
        running = courier.run(None)
        await anext(running)
        courier.call_over(CALL)

        async def dead() -> bool:
            return bool(await store.outbox.with_status("dead"))

        await until(dead)
        await running.aclose()
        assert down.tries == MAX_ATTEMPTS and down.accepted == []
        down.failures = 0  # the receiver is back
        env = tmp_path / "env"
        env.write_text(f"BRIDGE_DATA_DIR={settings.data_dir}\n")
        # The command in its own process, as an operator runs it (and with its own logging).
        retry = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bridge", "--env-file", str(env), "webhooks", "retry",
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(retry.communicate(), 60)
        assert retry.returncode == 0, out
        assert b"1 dead-lettered webhooks retried; 1 delivered now" in out
        assert len(down.accepted) == 1 and down.accepted[0]["call"]["call_sid"] == CALL
    assert [d.status for d in await store.outbox.with_status("delivered")] == ["delivered"]
