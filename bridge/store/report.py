"""Human-readable forms of call records: a compact listing and a call's transcript."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bridge.records import (
    CallerMessage,
    CallLeg,
    CallRecord,
    CallUsage,
    TurnLatency,
    TurnRecord,
    TurnUsage,
    TwilioAction,
    WrapUp,
    messages_of,
    usage_of,
)
from bridge.store.base import CallSummary

LATENCY_LABELS = {
    "stt": "stt",
    "agent": "agent",
    "tts_first_audio": "tts first audio",
    "first_media": "first media",
}


def _moment(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _duration(started: datetime, ended: datetime | None) -> str:
    if ended is None:
        return "-"
    seconds = int((ended - started).total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


def calls_table(calls: Sequence[CallSummary]) -> str:
    """One line per call under a header, columns as wide as their widest cell."""
    header = ("STARTED (UTC)", "CALL SID", "FROM", "TO", "DIALPLAN", "STATUS", "TURNS", "LENGTH")
    rows = [
        (
            _moment(call.started_at),
            call.call_sid,
            call.from_number or "-",
            call.to_number or "-",
            call.dialplan or "-",
            call.status,
            str(call.turn_count),
            _duration(call.started_at, call.ended_at),
        )
        for call in calls
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in (header, *rows)
    ]
    return "\n".join(line.rstrip() for line in lines)


def _latency(latency: TurnLatency) -> str:
    parts = [
        f"{label} {value:.0f} ms"
        for field, label in LATENCY_LABELS.items()
        if (value := getattr(latency, field, None)) is not None
    ]
    return ", ".join(parts)


def _turn(turn: TurnRecord) -> list[str]:
    lines = [f"#{turn.index} {turn.source} at {turn.started_at.strftime('%H:%M:%S')}"]
    if turn.caller:
        lines.append(f"  caller: {turn.caller}")
    if turn.agent:
        lines.append(f"  agent:  {turn.agent}")
    # What was heard matters only where it differs from what the agent meant to say.
    if turn.interrupted or (turn.heard and turn.heard != turn.agent):
        cut = " (interrupted)" if turn.interrupted else ""
        lines.append(f"  heard:  {turn.heard}{cut}")
    for tool in turn.tools:
        arguments = json.dumps(tool.arguments, ensure_ascii=False)
        result = json.dumps(tool.result, ensure_ascii=False)
        lines.append(f"  tool:   {tool.name} {arguments} -> {result}")
    if latency := _latency(turn.latency_ms):
        lines.append(f"  latency: {latency}")
    if turn.usage is not None:
        lines.append(f"  usage:  {turn.usage.summary()}")
    return lines


def _action(action: TwilioAction) -> str:
    outcome = "ok" if action.ok else f"failed: {action.error}"
    params = json.dumps(action.params, ensure_ascii=False) if action.params else ""
    return f"  {action.at.strftime('%H:%M:%S')} {action.method} {action.path} {outcome} {params}"


def _leg(leg: CallLeg) -> str:
    at = leg.at.strftime("%H:%M:%S")
    if leg.kind == "agent":
        return f"  {at} back with the agent (stream {leg.sid})"
    length = f", {leg.duration_s} s" if leg.duration_s else ""
    how = "warm transfer to" if leg.kind == "warm" else "dialled"
    return f"  {at} {how} {leg.department or '-'}: {leg.status}{length} {leg.sid}".rstrip()


def _wrap_up(notes: WrapUp) -> list[str]:
    lines = [
        f"After the call (by {notes.by}):",
        f"  summary:     {notes.summary}",
        f"  disposition: {notes.disposition}",
    ]
    if notes.fields:
        lines.append(f"  fields:      {json.dumps(notes.fields, ensure_ascii=False)}")
    lines += [f"  problem:     {problem}" for problem in notes.problems]
    if notes.usage is not None and notes.usage.provider:
        lines.append(f"  usage:       {notes.usage.summary()}")
    return lines


def _message(message: CallerMessage) -> str:
    to = f" for {message.department}" if message.department else ""
    back = ""
    if message.kind == "callback":
        back = f" (call back {message.callback_number or '?'}"
        back += f", {message.callback_when})" if message.callback_when else ")"
    return f"  {message.at.strftime('%H:%M:%S')} {message.kind}{to}{back}: {message.message}"


def usage_line(usage: CallUsage) -> str:
    """Minutes, speaking time and the LLM's tokens and dollars, on one line."""
    return (
        f"time: {usage.call_minutes:.1f} min; speech: caller {usage.caller_speech_seconds:.1f} s,"
        f" agent {usage.agent_speech_seconds:.1f} s; LLM {usage.llm_prompt_tokens}+"
        f"{usage.llm_completion_tokens} tokens ${usage.llm_cost_usd:.4f}"
    )


def call_usage(call: CallRecord) -> TurnUsage | None:
    """The LLM tokens and estimated cost of every turn together; None when no turn had any."""
    used = [turn.usage for turn in call.turns if turn.usage is not None]
    if not used:
        return None
    total = TurnUsage(provider=used[0].provider, model=used[0].model)
    for usage in used:
        total.add(usage)
    return total


def transcript(call: CallRecord) -> str:
    """The call's header, every turn (caller / agent / heard, tools, latencies), its REST calls."""
    reason = f" ({call.end_reason})" if call.end_reason else ""
    lines = [
        f"Call {call.call_sid}: {call.from_number or '-'} -> {call.to_number or '-'}",
        f"  dialplan: {call.dialplan or '-'}   status: {call.status}{reason}",
        f"  started: {_moment(call.started_at)} UTC   ended: {_moment(call.ended_at)}"
        f"   length: {_duration(call.started_at, call.ended_at)}",
    ]
    if call.stream_sid:
        lines.append(f"  stream: {call.stream_sid}")
    total = call_usage(call)
    if total is not None:
        lines.append(f"  usage (whole call): {total.summary()}")
    lines.append(f"  {usage_line(usage_of(call))}")
    lines.append("")
    if call.wrap_up is not None:
        lines += [*_wrap_up(call.wrap_up), ""]
    lines += [line for turn in call.turns for line in _turn(turn)] or ["(no turns)"]
    if call.twilio_actions:
        lines += [
            "",
            "Twilio requests:",
            *(_action(action).rstrip() for action in call.twilio_actions),
        ]
    if call.legs:
        lines += ["", "Transfers:", *(_leg(leg) for leg in call.legs)]
    lines += [f"  {w.purpose} written by {w.usage.summary()}" for w in call.writings]
    if taken := messages_of(call):
        lines += ["", "Messages:", *(_message(message) for message in taken)]
    return "\n".join(lines)
