"""Several bridges on one PostgreSQL: a restarted instance closes only its own calls."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bridge.config import Settings
from bridge.records import CallRecord, utcnow
from bridge.services import build_services
from bridge.store import CallStore, open_store
from tests.support.postgres import PostgresCluster, fresh_database

REPO = Path(__file__).resolve().parents[2]


def instance_settings(tmp_path: Path, database_url: str, instance_id: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DIALPLANS_DIR=REPO / "dialplans",
        BRIDGE_DATA_DIR=tmp_path / "data",
        DATABASE_URL=database_url,
        BRIDGE_INSTANCE_ID=instance_id,
        STT_PROVIDER="instant",
        TTS_PROVIDER="instant",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="0" * 32,
    )


async def restart(settings: Settings) -> None:
    services = await build_services(settings)
    await services.close()


async def status_of(store: CallStore, call_sid: str) -> str:
    record = await store.get(call_sid)
    assert record is not None
    return record.status


async def test_restart_on_shared_postgres_closes_only_its_own_and_stale_calls(
    tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    dsn = fresh_database(postgres_cluster)
    store = await open_store(instance_settings(tmp_path, dsn, "a"))
    try:
        await store.open_call(CallRecord(call_sid="CAmine", instance_id="a"))
        await store.open_call(CallRecord(call_sid="CAtheirs", instance_id="b"))
        # Answered by a webhook, no media socket yet: no instance holds it.
        await store.open_call(CallRecord(call_sid="CAringing"))
        long_ago = utcnow() - timedelta(days=2)
        await store.open_call(
            CallRecord(call_sid="CAorphan", instance_id="gone", started_at=long_ago)
        )

        await restart(instance_settings(tmp_path, dsn, "a"))

        assert await status_of(store, "CAmine") == "interrupted"
        assert await status_of(store, "CAorphan") == "interrupted"
        assert await status_of(store, "CAtheirs") == "active"
        assert await status_of(store, "CAringing") == "active"
    finally:
        await store.close()


async def test_the_instance_holding_the_socket_claims_a_call_another_answered(
    tmp_path: Path, postgres_cluster: PostgresCluster
) -> None:
    store = await open_store(instance_settings(tmp_path, fresh_database(postgres_cluster), "a"))
    try:
        await store.open_call(CallRecord(call_sid="CA1", from_number="+15550001"))
        await store.open_call(CallRecord(call_sid="CA1", instance_id="b"))
        await store.open_call(CallRecord(call_sid="CA1", from_number="+15559999"))
        record = await store.get("CA1")
        assert record is not None
        assert record.instance_id == "b"
        assert record.from_number == "+15550001"
    finally:
        await store.close()


async def test_restart_on_sqlite_closes_every_open_call(tmp_path: Path) -> None:
    settings = instance_settings(tmp_path, "", "a")
    store = await open_store(settings)
    try:
        await store.open_call(CallRecord(call_sid="CAother", instance_id="renamed-host:8080"))
        await restart(settings)
        assert await status_of(store, "CAother") == "interrupted"
    finally:
        await store.close()
