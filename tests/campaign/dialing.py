"""A dialer's surroundings without a bridge: the fake Twilio API, the store, the real `twilio`
client and the `dial` function the dialer places calls with (no callee answers them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from twilio.rest import Client

from bridge.config import Settings
from bridge.dialplan.loader import DialplanSet, load_dialplans
from bridge.records import CallRecord
from bridge.sim.calls import fresh_credentials
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.store import CallStore, open_store
from bridge.twilio.outbound import check_request, place_call
from bridge.twilio.rest import close_twilio_client, make_twilio_client
from tests.support.bridges import REPO, bridge_settings


@dataclass
class Dialing:
    api: FakeTwilioApi
    settings: Settings
    store: CallStore
    client: Client
    dialplans: DialplanSet

    async def dial(self, name: str, to: str, variables: dict[str, str]) -> CallRecord:
        plan = check_request(self.dialplans, name, to, variables)
        return await place_call(self.client, self.settings, self.store, plan, to, variables)


@asynccontextmanager
async def dialing(tmp_path: Path) -> AsyncIterator[Dialing]:
    account_sid, auth_token = fresh_credentials()
    async with FakeTwilioApi(account_sid, auth_token) as api:
        settings = bridge_settings(
            tmp_path,
            PUBLIC_BASE_URL="https://bridge.example.com",
            TWILIO_ACCOUNT_SID=account_sid,
            TWILIO_AUTH_TOKEN=auth_token,
            TWILIO_API_BASE_URL=api.url,
        )
        store = await open_store(settings)
        client = make_twilio_client(settings)
        try:
            yield Dialing(api, settings, store, client, load_dialplans(REPO / "dialplans"))
        finally:
            await close_twilio_client(client)
            await store.close()
