"""One call's page body: what was said and heard, tools, the notes after the call, transfer
legs, Twilio actions, timings, recording."""

from __future__ import annotations

import json
from typing import Any

from bridge.console.call_outcome import legs_html, messages_html, usage_html, wrap_up_html
from bridge.console.html import esc, when
from bridge.console.waterfall import waterfall_svg
from bridge.records import CallRecord, TurnRecord, TwilioAction, messages_of, usage_of


def call_detail(record: CallRecord, recording_url: str | None) -> str:
    """The part of the call page that live updates replace."""
    return "".join(
        [
            _summary(record),
            _recording(recording_url),
            _section("After the call", wrap_up_html(record.wrap_up), "wrap-up"),
            _section("Messages", messages_html(messages_of(record)), "messages"),
            _section("Usage", usage_html(usage_of(record)), "usage"),
            _section("Transcript", _transcript(record.turns), "transcript"),
            _section("Transfers", legs_html(record.legs), "transfers"),
            _section("Twilio actions", _actions(record.twilio_actions), "actions"),
            _section("Latency per turn", _waterfalls(record.turns), "latency"),
        ]
    )


def _section(title: str, body: str, anchor: str) -> str:
    return (
        f'<section aria-labelledby="h-{anchor}" id="{anchor}">'
        f'<h2 id="h-{anchor}">{title}</h2>{body}</section>'
    )


def _summary(record: CallRecord) -> str:
    rows = [
        ("Status", f'<span class="badge status-{esc(record.status)}">{esc(record.status)}</span>'),
        ("From", esc(record.from_number or "—")),
        ("To", esc(record.to_number or "—")),
        ("Dialplan", esc(record.dialplan or "—")),
        ("Started", when(record.started_at)),
        ("Ended", when(record.ended_at)),
        ("End reason", esc(record.end_reason or "—")),
        ("Call SID", f"<code>{esc(record.call_sid)}</code>"),
    ]
    items = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="summary">{items}</dl>'


def _recording(url: str | None) -> str:
    if url is None:
        return ""
    return _section(
        "Recording",
        f'<audio controls preload="metadata" src="{esc(url)}"></audio>'
        '<p class="muted">Left channel: caller. Right channel: agent.</p>',
        "recording",
    )


def _transcript(turns: list[TurnRecord]) -> str:
    if not turns:
        return '<p class="muted">Nothing said yet.</p>'
    return f'<ol class="turns">{"".join(_turn(turn) for turn in turns)}</ol>'


def _turn(turn: TurnRecord) -> str:
    parts = [f'<li class="turn" id="turn-{turn.index}">']
    if turn.caller:
        parts.append(
            f'<p class="caller"><span class="who">Caller ({esc(turn.source)})</span> '
            f"{esc(turn.caller)}</p>"
        )
    parts.extend(
        _tool(index, tool.name, tool.arguments, tool.result)
        for index, tool in enumerate(turn.tools)
    )
    if turn.agent or turn.heard:
        parts.append(f'<p class="agent"><span class="who">Agent</span> {_agent_text(turn)}</p>')
    if turn.usage is not None and turn.usage.provider:
        parts.append(f'<p class="usage muted">{esc(turn.usage.summary())}</p>')
    parts.append("</li>")
    return "".join(parts)


def _agent_text(turn: TurnRecord) -> str:
    """What the caller heard, then (struck through) what a barge-in cut off."""
    if not turn.interrupted:
        return esc(turn.heard or turn.agent)
    heard = turn.heard.strip()
    said = turn.agent.strip()
    cut = said[len(heard) :].strip() if said.startswith(heard) else said
    heard_html = f'<span class="heard">{esc(heard)}</span> ' if heard else ""
    if not cut or cut == heard:
        return heard_html + '<span class="badge cut">cut off</span>'
    return (
        f'{heard_html}<del class="cut-text" title="not heard: cut off by the caller">{esc(cut)}'
        '</del> <span class="badge cut">cut off</span>'
    )


def _tool(index: int, name: str, arguments: dict[str, Any], result: dict[str, Any]) -> str:
    return (
        f'<div class="tool"><p><span class="who">Tool</span> <code>{esc(name)}</code></p>'
        f"<details open><summary>Arguments and result</summary>"
        f'<pre class="tool-args" aria-label="arguments">{esc(_json(arguments))}</pre>'
        f'<pre class="tool-result" aria-label="result">{esc(_json(result))}</pre>'
        "</details></div>"
    )


def _actions(actions: list[TwilioAction]) -> str:
    if not actions:
        return '<p class="muted">No REST requests to Twilio.</p>'
    rows = "".join(
        f"<tr><td>{when(action.at)}</td><td>{esc(action.method)}</td>"
        f"<td><code>{esc(action.path)}</code></td>"
        f"<td><pre>{esc(_json(action.params))}</pre></td>"
        f"<td>{'ok' if action.ok else 'failed: ' + esc(action.error)}</td></tr>"
        for action in actions
    )
    return (
        '<div class="scroll"><table><caption class="sr-only">REST requests to Twilio</caption>'
        "<thead><tr><th scope=col>At</th><th scope=col>Method</th><th scope=col>Path</th>"
        f"<th scope=col>Parameters</th><th scope=col>Result</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def _waterfalls(turns: list[TurnRecord]) -> str:
    if not turns:
        return '<p class="muted">No turns yet.</p>'
    return "".join(
        f'<figure class="turn-latency"><figcaption>Turn {turn.index} '
        f"({esc(turn.source)})</figcaption>{waterfall_svg(turn.latency_ms, turn.index)}"
        "</figure>"
        for turn in turns
    )


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
