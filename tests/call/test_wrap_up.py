"""The post-call notes: written by the dialplan's LLM (the real `openai` client against the
fake LLM server) and checked against the dialplan's dispositions and JSON Schema, by rules
when there is no LLM or its notes fail the check; kept on the record and sent in the
after-call webhook."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.agent.factory import LlmClients
from bridge.call.after_call import WebhookCourier, payload
from bridge.call.llm_writer import LlmWriter
from bridge.config import Settings
from bridge.console.call_view import call_detail
from bridge.dialplan.loader import load_dialplans
from bridge.records import CallRecord, ToolCallRecord, TurnRecord
from bridge.sim.fake_llm import FakeLlm, FakeReply
from bridge.store import CallStore, open_store
from bridge.store.report import transcript

CALL = "CA" + "7" * 32
PLAN = """
name: crm
after_call:
  dispositions: [order_status, transferred, other]
  fields:
    type: object
    properties:
      order_id: {type: string, pattern: "^[0-9]+$"}
      satisfied: {type: boolean}
    required: [order_id]
"""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CallStore]:
    opened = await open_store(Settings(_env_file=None, BRIDGE_DATA_DIR=tmp_path))  # type: ignore[call-arg]
    yield opened
    await opened.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeLlm]:
    async with FakeLlm() as server:
        yield server


def writer_on(fake: FakeLlm) -> LlmWriter:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, OPENAI_BASE_URL=fake.openai_base_url, OPENAI_API_KEY="sk-test"
    )
    return LlmWriter(LlmClients(settings))


async def ended_call(store: CallStore) -> None:
    check = ToolCallRecord(
        name="check_order_status",
        arguments={"order_id": "4572"},
        result={"found": True, "order_id": "4572", "status": "shipped"},
    )
    turns = [
        TurnRecord(index=0, caller="Where is order 4572?", agent="It shipped.", tools=[check]),
        TurnRecord(index=1, caller="Great, thanks!", agent="Goodbye!", heard="Goodbye!"),
    ]
    await store.open_call(CallRecord(call_sid=CALL, dialplan="crm", turns=turns))
    await store.close_call(CALL, "completed", "caller hung up")


async def notes_of(tmp_path: Path, store: CallStore, writer: LlmWriter | None) -> CallRecord:
    """Run the courier's post-call step for the call; the record it left."""
    (tmp_path / "plans").mkdir(exist_ok=True)
    (tmp_path / "plans" / "crm.yaml").write_text(PLAN)
    courier = WebhookCourier(store, load_dialplans(tmp_path / "plans"), str, writer)
    running = courier.run(None)
    await anext(running)
    courier.call_over(CALL)
    try:
        async with asyncio.timeout(10):
            while (record := await store.get(CALL)) is None or record.wrap_up is None:  # noqa: ASYNC110 (no change signal)
                await asyncio.sleep(0.05)
    finally:
        await running.aclose()
    return record


async def test_the_llm_writes_the_notes_and_its_fields_fit_the_schema(
    tmp_path: Path, store: CallStore, fake: FakeLlm
) -> None:
    await ended_call(store)
    notes = {
        "summary": "The caller asked about order 4572, which has shipped.",
        "disposition": "order_status",
        "fields": {"order_id": "4572", "satisfied": True},
    }
    fake.script("openai", FakeReply(text=json.dumps(notes)))
    record = await notes_of(tmp_path, store, writer_on(fake))

    wrap = record.wrap_up
    assert wrap is not None and wrap.by == "llm" and wrap.problems == []
    assert (wrap.summary, wrap.disposition) == (notes["summary"], "order_status")
    assert wrap.fields == {"order_id": "4572", "satisfied": True}
    assert wrap.usage is not None and wrap.usage.completion_tokens > 0
    [(api, request)] = fake.requests
    assert api == "openai"
    asked = request["messages"][-1]["content"]
    assert "order_status" in asked and '"required": ["order_id"]' in asked
    assert "Caller: Where is order 4572?" in asked
    sent = json.loads(payload(record, wrap, None))
    assert sent["fields"] == wrap.fields and sent["disposition"] == "order_status"
    shown = transcript(record)  # `bridge calls show`
    assert "After the call (by llm):" in shown and "disposition: order_status" in shown
    assert 'fields:      {"order_id": "4572", "satisfied": true}' in shown
    page = call_detail(record, None)  # the console's call page
    assert notes["summary"] in page and "&quot;satisfied&quot;: true" in page


async def test_notes_that_break_the_schema_are_refused_for_the_rules(
    tmp_path: Path, store: CallStore, fake: FakeLlm
) -> None:
    await ended_call(store)
    bad = {"summary": "x", "disposition": "happy", "fields": {"order_id": "forty", "satisfied": 1}}
    fake.script("openai", FakeReply(text=json.dumps(bad)))
    record = await notes_of(tmp_path, store, writer_on(fake))

    wrap = record.wrap_up
    assert wrap is not None and wrap.by == "rules"
    assert wrap.problems == [
        "disposition: 'happy' is not one of ['order_status', 'transferred', 'other']",
        "fields.order_id: 'forty' does not match '^[0-9]+$'",
        "fields.satisfied: 1 is not of type 'boolean'",
    ]
    # The rules' notes: the order the agent checked, and the list's first disposition (no
    # "resolved" in it).
    assert wrap.fields == {"order_id": "4572"} and wrap.disposition == "order_status"
    assert wrap.summary.startswith("Caller said: Where is order 4572? / Great, thanks!.")


async def test_without_an_llm_the_rules_write_the_notes(tmp_path: Path, store: CallStore) -> None:
    await ended_call(store)
    record = await notes_of(tmp_path, store, None)
    wrap = record.wrap_up
    assert wrap is not None and wrap.by == "rules" and wrap.problems == []
    assert wrap.fields == {"order_id": "4572"} and wrap.usage is None


async def test_a_slow_llm_does_not_hold_up_the_next_calls_notes(
    tmp_path: Path, store: CallStore, fake: FakeLlm
) -> None:
    await ended_call(store)
    other = "CA" + "8" * 32
    await store.open_call(CallRecord(call_sid=other, dialplan="crm"))
    await store.close_call(other, "completed", "caller hung up")
    quick = {"summary": "Nothing said.", "disposition": "other", "fields": {"order_id": "1"}}
    fake.script("openai", FakeReply(stall_s=8.0), FakeReply(text=json.dumps(quick)))
    (tmp_path / "plans").mkdir(exist_ok=True)
    (tmp_path / "plans" / "crm.yaml").write_text(PLAN)
    courier = WebhookCourier(store, load_dialplans(tmp_path / "plans"), str, writer_on(fake))
    running = courier.run(None)
    await anext(running)
    try:
        courier.call_over(CALL)  # its LLM stalls
        async with asyncio.timeout(6):
            while not fake.requests:  # noqa: ASYNC110 (the fake has no signal)
                await asyncio.sleep(0.05)
        courier.call_over(other)
        async with asyncio.timeout(6):
            while (record := await store.get(other)) is None or record.wrap_up is None:  # noqa: ASYNC110 (no change signal)
                await asyncio.sleep(0.05)
        first = await store.get(CALL)
    finally:
        await running.aclose()
    assert record.wrap_up.by == "llm" and record.wrap_up.summary == "Nothing said."
    assert first is not None and first.wrap_up is None  # still being written
