"""The call store's contract, proved the same way on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bridge.config import Settings
from bridge.records import (
    CallRecord,
    CallUsage,
    ToolCallRecord,
    TurnLatency,
    TurnRecord,
    TurnUsage,
    TwilioAction,
    WrapUp,
)
from bridge.store import CallQuery, CallStore, UnknownCallError, open_store
from bridge.store.schema import MIGRATIONS

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def _turn(index: int, **fields: object) -> TurnRecord:
    return TurnRecord(index=index, started_at=T0 + timedelta(seconds=10 * index), **fields)


async def test_call_with_turns_and_actions_round_trips(store: CallStore) -> None:
    call = CallRecord(
        call_sid="CA100",
        from_number="+15550001111",
        to_number="+15559998888",
        dialplan="acme",
        started_at=T0,
    )
    await store.open_call(call)
    await store.set_stream("CA100", "MZ100")
    greeting = _turn(
        0, source="greeting", agent="Acme, how can I help?", heard="Acme, how can I help?"
    )
    transfer = _turn(
        1,
        caller="Sales please",
        agent="Putting you through to sales.",
        heard="Putting you",
        interrupted=True,
        tools=[
            ToolCallRecord(
                name="transfer_call",
                arguments={"department": "sales"},
                result={"ok": True, "number": "+15550002222", "nested": {"n": [1, 2]}},
            )
        ],
        latency_ms=TurnLatency(stt=412.5, agent=801.0, tts_first_audio=95.25, first_media=1310.0),
        usage=TurnUsage(
            provider="openai",
            model="gpt-4o-mini",
            prompt_tokens=321,
            completion_tokens=12,
            cost_usd=0.00012,
        ),
    )
    # Added out of order: the record comes back ordered by turn index.
    await store.add_turn("CA100", transfer)
    await store.add_turn("CA100", greeting)
    update = TwilioAction(
        method="POST",
        path="/2010-04-01/Accounts/AC1/Calls/CA100.json",
        params={"Twiml": "<Response><Dial>+15550002222</Dial></Response>"},
        at=T0 + timedelta(seconds=15),
    )
    failed = TwilioAction(
        method="POST",
        path="/2010-04-01/Accounts/AC1/Calls/CA100.json",
        params={"Status": "completed"},
        ok=False,
        error="HTTP 404",
        at=T0 + timedelta(seconds=16),
    )
    await store.add_action("CA100", update)
    await store.add_action("CA100", failed)
    assert await store.close_call("CA100", "transferred", "sales")

    loaded = await store.get("CA100")

    assert loaded is not None
    assert loaded.turns == [greeting, transfer]
    assert loaded.twilio_actions == [update, failed]
    assert loaded.stream_sid == "MZ100"
    assert (loaded.status, loaded.end_reason) == ("transferred", "sales")
    assert loaded.ended_at is not None and loaded.ended_at >= T0
    expected = call.model_copy(
        update={
            "stream_sid": "MZ100",
            "status": "transferred",
            "end_reason": "sales",
            "ended_at": loaded.ended_at,
            "turns": [greeting, transfer],
            "twilio_actions": [update, failed],
        }
    )
    assert loaded == expected


async def test_open_call_keeps_the_turns_and_actions_it_carries(store: CallStore) -> None:
    action = TwilioAction(method="GET", path="/Calls/CA101.json", at=T0)
    call = CallRecord(call_sid="CA101", started_at=T0, turns=[_turn(0)], twilio_actions=[action])

    await store.open_call(call)

    assert await store.get("CA101") == call


async def test_opening_a_call_twice_keeps_the_first(store: CallStore) -> None:
    await store.open_call(CallRecord(call_sid="CA102", dialplan="first", started_at=T0))
    await store.open_call(CallRecord(call_sid="CA102", dialplan="second", started_at=T0))

    loaded = await store.get("CA102")

    assert loaded is not None and loaded.dialplan == "first"


async def test_a_turn_written_again_replaces_the_one_with_its_index(store: CallStore) -> None:
    await store.open_call(CallRecord(call_sid="CA103", started_at=T0))
    await store.add_turn("CA103", _turn(0, agent="Hello there, caller", heard=""))
    await store.add_turn("CA103", _turn(0, agent="Hello there, caller", heard="Hello"))

    loaded = await store.get("CA103")

    assert loaded is not None
    assert [(turn.index, turn.heard) for turn in loaded.turns] == [(0, "Hello")]


async def test_second_close_keeps_the_first_outcome(store: CallStore) -> None:
    await store.open_call(CallRecord(call_sid="CA104", started_at=T0))

    first = await store.close_call("CA104", "completed", "caller hung up")
    first_end = (await store.get("CA104")).ended_at  # type: ignore[union-attr]
    second = await store.close_call("CA104", "failed", "socket closed")
    loaded = await store.get("CA104")

    assert (first, second) == (True, False)
    assert loaded is not None
    assert (loaded.status, loaded.end_reason, loaded.ended_at) == (
        "completed",
        "caller hung up",
        first_end,
    )


async def test_closing_an_unknown_call_changes_nothing(store: CallStore) -> None:
    assert await store.close_call("CA404", "completed", "status callback") is False
    assert await store.get("CA404") is None


async def test_closing_as_active_is_refused(store: CallStore) -> None:
    await store.open_call(CallRecord(call_sid="CA105", started_at=T0))

    with pytest.raises(ValueError):
        await store.close_call("CA105", "active", "")


async def test_writes_to_an_unknown_call_raise(store: CallStore) -> None:
    with pytest.raises(UnknownCallError):
        await store.add_turn("CA404", _turn(0))
    with pytest.raises(UnknownCallError):
        await store.add_action("CA404", TwilioAction(method="GET", path="/"))
    with pytest.raises(UnknownCallError):
        await store.set_stream("CA404", "MZ404")


async def _seed_listing(store: CallStore) -> None:
    calls = [
        ("CA1", "+15551110000", "+18005550100", "acme", "completed", 0),
        ("CA2", "+15552220000", "+18005550100", "acme", "transferred", 1),
        ("CA3", "+447700900123", "+18005550199", "globex", "completed", 2),
        ("CA4", "+15551119999", "+18005550199", "globex", "active", 3),
        # An underscore and a percent sign in a number: LIKE must take them literally.
        ("CA5", "sip:ops_100%", "+18005550100", "acme", "failed", 4),
    ]
    for sid, caller, called, dialplan, status, day in calls:
        start = T0 + timedelta(days=day)
        await store.open_call(
            CallRecord(
                call_sid=sid,
                from_number=caller,
                to_number=called,
                dialplan=dialplan,
                started_at=start,
            )
        )
        await store.add_turn(sid, _turn(0))
        if status != "active":
            await store.close_call(sid, status, "")  # type: ignore[arg-type]


async def _sids(store: CallStore, **filters: object) -> list[str]:
    return [call.call_sid for call in await store.list_calls(CallQuery.model_validate(filters))]


async def test_listing_is_newest_first_and_pages(store: CallStore) -> None:
    await _seed_listing(store)

    assert await _sids(store) == ["CA5", "CA4", "CA3", "CA2", "CA1"]
    assert await _sids(store, limit=2) == ["CA5", "CA4"]
    assert await _sids(store, limit=2, offset=2) == ["CA3", "CA2"]


async def test_listing_filters_by_number_substring_in_either_side(store: CallStore) -> None:
    await _seed_listing(store)

    assert await _sids(store, number="555111") == ["CA4", "CA1"]
    assert await _sids(store, number="5550199") == ["CA4", "CA3"]
    # Taken as wildcards, these two would match "+1555..." and "sip:ops_100%".
    assert await _sids(store, number="_555") == []
    assert await _sids(store, number="s%0") == []
    assert await _sids(store, number="ops_100%") == ["CA5"]


async def test_listing_filters_by_dialplan_status_and_date_range(store: CallStore) -> None:
    await _seed_listing(store)

    assert await _sids(store, dialplan="globex") == ["CA4", "CA3"]
    assert await _sids(store, status="completed") == ["CA3", "CA1"]
    assert await _sids(store, since=T0 + timedelta(days=1), until=T0 + timedelta(days=3)) == [
        "CA3",
        "CA2",
    ]
    assert await _sids(store, dialplan="acme", status="completed", number="+1555") == ["CA1"]


async def test_listing_summarises_each_call(store: CallStore) -> None:
    await _seed_listing(store)
    await store.add_turn("CA2", _turn(1))

    (summary,) = await store.list_calls(CallQuery(number="5552220000"))

    assert summary.model_dump(exclude={"ended_at"}) == {
        "call_sid": "CA2",
        "from_number": "+15552220000",
        "to_number": "+18005550100",
        "dialplan": "acme",
        "status": "transferred",
        "end_reason": "",
        "started_at": T0 + timedelta(days=1),
        "turn_count": 2,
        "usage": None,
    }
    # Once the call's notes are written, the listing carries its usage totals.
    used = CallUsage(call_seconds=42.0, caller_speech_seconds=3.5, llm_cost_usd=0.002)
    await store.add_agent_speech("CA2", 1200)
    await store.add_agent_speech("CA2", 300)  # a second stream after a transfer came back
    await store.set_wrap_up("CA2", WrapUp(summary="s", disposition="transferred"), used)
    (summary,) = await store.list_calls(CallQuery(number="5552220000"))
    assert summary.usage == used
    record = await store.get("CA2")
    assert record is not None and record.agent_speech_ms == 1500
    assert record.wrap_up == WrapUp(summary="s", disposition="transferred")


async def test_close_interrupted_marks_only_active_calls(store: CallStore) -> None:
    await _seed_listing(store)

    assert await store.close_interrupted() == 1
    assert await _sids(store, status="interrupted") == ["CA4"]
    assert await _sids(store, status="active") == []
    assert await store.close_interrupted() == 0


async def test_migrations_run_twice_without_harm(
    store: CallStore, store_settings: Settings
) -> None:
    await store.open_call(CallRecord(call_sid="CA106", started_at=T0, turns=[_turn(0)]))

    await store.migrate()
    again = await open_store(store_settings)
    try:
        await again.migrate()
        loaded = await again.get("CA106")
        version = await again.schema_version()  # type: ignore[attr-defined]
    finally:
        await again.close()

    assert loaded is not None and [turn.index for turn in loaded.turns] == [0]
    assert version == MIGRATIONS[-1].version


async def test_a_cancelled_write_leaves_the_store_usable(store: CallStore) -> None:
    await store.open_call(CallRecord(call_sid="CA107", started_at=T0))
    cancelled = asyncio.create_task(store.add_turn("CA107", _turn(0)))
    await asyncio.sleep(0)  # let the write start its transaction before it is cancelled
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)

    await store.add_turn("CA107", _turn(1))
    loaded = await store.get("CA107")

    assert cancelled.cancelled()
    assert loaded is not None
    assert 1 in [turn.index for turn in loaded.turns]


async def test_instances_starting_together_on_a_new_database_all_migrate_it(
    store_settings: Settings,
) -> None:
    stores = await asyncio.gather(*(open_store(store_settings) for _ in range(8)))
    try:
        versions = [await s.schema_version() for s in stores]  # type: ignore[attr-defined]
    finally:
        for opened in stores:
            await opened.close()
    assert versions == [MIGRATIONS[-1].version] * 8
