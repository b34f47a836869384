"""`bridge calls list|show` read what the store kept and print it for people or for scripts."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from bridge.config import Settings
from bridge.records import CallRecord, ToolCallRecord, TurnLatency, TurnRecord, TwilioAction
from bridge.store import open_store
from bridge.store.commands import add_calls_command

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)

TRANSFERRED = CallRecord(
    call_sid="CA1",
    from_number="+15550001111",
    to_number="+18005550100",
    dialplan="acme",
    started_at=T0,
    turns=[
        TurnRecord(index=0, source="greeting", agent="Acme, hello.", heard="Acme, hello."),
        TurnRecord(
            index=1,
            caller="Sales please",
            agent="Putting you through to sales now.",
            heard="Putting you",
            interrupted=True,
            tools=[ToolCallRecord(name="transfer_call", arguments={"department": "sales"})],
            latency_ms=TurnLatency(stt=412.4, agent=801.0),
        ),
    ],
    twilio_actions=[TwilioAction(method="POST", path="/Calls/CA1.json", params={"Twiml": "x"})],
)
LATER = CallRecord(call_sid="CA2", dialplan="globex", started_at=T0 + timedelta(days=2))


def _seed(settings: Settings) -> None:
    async def seed() -> None:
        store = await open_store(settings)
        try:
            for call in (TRANSFERRED, LATER):
                await store.open_call(call)
            await store.close_call("CA1", "transferred", "sales")
        finally:
            await store.close()

    asyncio.run(seed())


def _run(settings: Settings, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="bridge")
    add_calls_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args, settings))


def test_calls_list_prints_a_table_of_matching_calls(
    store_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(store_settings)

    assert _run(store_settings, "calls", "list", "--dialplan", "acme") == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["STARTED", "(UTC)", "CALL", "SID"]
    assert len(lines) == 2
    # The last column, the call's length, runs to the close, which happened just now.
    assert lines[1].split()[:-1] == [
        "2025-03-01",
        "09:30:00",
        "CA1",
        "+15550001111",
        "+18005550100",
        "acme",
        "transferred",
        "2",
    ]


def test_calls_list_json_filters_by_number_status_and_since(
    store_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(store_settings)

    def listed(*options: str) -> list[str]:
        assert _run(store_settings, "calls", "list", "--json", *options) == 0
        return [call["call_sid"] for call in json.loads(capsys.readouterr().out)]

    assert listed() == ["CA2", "CA1"]
    assert listed("--since", "2025-03-02") == ["CA2"]
    assert listed("--number", "0001111") == ["CA1"]
    assert listed("--status", "active") == ["CA2"]
    assert listed("--limit", "1") == ["CA2"]


def test_calls_show_prints_the_transcript(
    store_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(store_settings)

    assert _run(store_settings, "calls", "show", "CA1") == 0

    out = capsys.readouterr().out
    assert "Call CA1: +15550001111 -> +18005550100" in out
    assert "status: transferred (sales)" in out
    assert "  caller: Sales please\n" in out
    assert "  agent:  Putting you through to sales now.\n" in out
    assert "  heard:  Putting you (interrupted)\n" in out
    assert '  tool:   transfer_call {"department": "sales"} -> {}\n' in out
    assert "  latency: stt 412 ms, agent 801 ms\n" in out
    assert "POST /Calls/CA1.json ok" in out
    # The greeting was heard in full, so no separate "heard" line for it.
    assert out.count("heard:") == 1


def test_calls_show_json_is_the_whole_record(
    store_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(store_settings)

    assert _run(store_settings, "calls", "show", "CA1", "--json") == 0

    shown = CallRecord.model_validate_json(capsys.readouterr().out)
    assert shown.turns == TRANSFERRED.turns
    assert shown.twilio_actions == TRANSFERRED.twilio_actions
    assert shown.status == "transferred"


def test_calls_show_of_an_unknown_call_fails(
    store_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(store_settings)

    assert _run(store_settings, "calls", "show", "CA404") == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no call CA404" in captured.err


def test_show_totals_the_calls_llm_usage_over_its_turns() -> None:
    from bridge.records import CallRecord, TurnRecord, TurnUsage
    from bridge.store.report import transcript

    def used(prompt: int, cost: float) -> TurnUsage:
        return TurnUsage(provider="openai", model="m", prompt_tokens=prompt, completion_tokens=5,
                         cost_usd=cost)  # fmt: skip

    turns = [
        TurnRecord(index=0, usage=used(100, 0.001)),
        TurnRecord(index=1),
        TurnRecord(index=2, usage=used(200, 0.002)),
    ]
    shown = transcript(CallRecord(call_sid="CA1", turns=turns))
    assert "usage (whole call): openai m 300+10 tokens $0.0030" in shown
    assert "usage (whole call)" not in transcript(CallRecord(call_sid="CA2"))
