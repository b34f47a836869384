"""Outbound calls in the store (SQLite and PostgreSQL): requests, outcomes, AMD verdicts."""

from __future__ import annotations

from bridge.records import CallRecord, OutboundRequest
from bridge.store import CallStore


async def test_an_outbound_request_round_trips_and_learns_its_call(store: CallStore) -> None:
    request = OutboundRequest(
        request_id="r1", dialplan="acme", to_number="+15035550142",
        from_number="+15555550100", variables={"name": "Dana"},
    )  # fmt: skip
    await store.add_outbound(request)
    await store.set_outbound_call("r1", "CA1")
    loaded = await store.get_outbound("r1")
    assert loaded is not None
    assert loaded.model_dump(exclude={"created_at"}) == {
        **request.model_dump(exclude={"created_at"}),
        "call_sid": "CA1",
    }
    assert await store.get_outbound("r2") is None


async def test_the_first_outcome_stays_unless_replaced_on_purpose(store: CallStore) -> None:
    await store.open_call(CallRecord(call_sid="CA1", direction="outbound"))
    assert await store.set_outcome("CA1", "human")
    assert not await store.set_outcome("CA1", "no_answer")
    assert await store.set_outcome("CA1", "opted_out", replace=True)
    await store.set_answered_by("CA1", "human")
    record = await store.get("CA1")
    assert record is not None
    assert (record.direction, record.outcome, record.answered_by) == (
        "outbound", "opted_out", "human",
    )  # fmt: skip


async def test_an_inbound_call_gets_no_outcome(store: CallStore) -> None:
    await store.open_call(CallRecord(call_sid="CA2"))
    assert not await store.set_outcome("CA2", "human")
    record = await store.get("CA2")
    assert record is not None and (record.direction, record.outcome) == ("inbound", "")
