"""What became of a call, on its page: the post-call notes, its usage and every transfer
leg."""

from __future__ import annotations

import json

from bridge.console.html import esc, when
from bridge.records import CallerMessage, CallLeg, CallUsage, WrapUp

LEG_KINDS = {"dial": "Dialled", "warm": "Warm transfer", "agent": "Back with the agent"}


def wrap_up_html(notes: WrapUp | None) -> str:
    if notes is None:
        return '<p class="muted">Not written yet (the call is not over).</p>'
    rows = [
        ("Summary", esc(notes.summary)),
        ("Disposition", f'<span class="badge">{esc(notes.disposition)}</span>'),
        ("Written by", esc(notes.by)),
    ]
    if notes.usage is not None and notes.usage.provider:
        rows.append(("LLM usage", esc(notes.usage.summary())))
    items = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    parts = [f'<dl class="summary">{items}</dl>']
    if notes.fields:
        fields = json.dumps(notes.fields, indent=2, ensure_ascii=False)
        parts.append(f'<pre class="wrap-fields" aria-label="fields">{esc(fields)}</pre>')
    if notes.problems:
        listed = "".join(f"<li>{esc(problem)}</li>" for problem in notes.problems)
        parts.append(f'<ul class="wrap-problems" aria-label="problems">{listed}</ul>')
    return "".join(parts)


def legs_html(legs: list[CallLeg]) -> str:
    if not legs:
        return '<p class="muted">No transfers.</p>'
    rows = "".join(
        f"<tr><td>{when(leg.at)}</td><td>{LEG_KINDS.get(leg.kind, esc(leg.kind))}</td>"
        f"<td>{esc(leg.department or '—')}</td><td>{esc(leg.target or '—')}</td>"
        f'<td><span class="badge">{esc(leg.status)}</span></td>'
        f"<td>{f'{leg.duration_s} s' if leg.duration_s else '—'}</td>"
        f"<td><code>{esc(leg.sid)}</code></td></tr>"
        for leg in legs
    )
    return (
        '<div class="scroll"><table class="legs"><caption class="sr-only">Transfer legs</caption>'
        "<thead><tr><th scope=col>At</th><th scope=col>Leg</th><th scope=col>Department</th>"
        "<th scope=col>Target</th><th scope=col>Outcome</th><th scope=col>Talked</th>"
        f"<th scope=col>SID</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )


def usage_html(usage: CallUsage) -> str:
    rows = [
        ("Length", f"{usage.call_minutes:.1f} min ({usage.call_seconds:.0f} s)"),
        ("Caller spoke", f"{usage.caller_speech_seconds:.1f} s"),
        ("Agent heard", f"{usage.agent_speech_seconds:.1f} s"),
        ("LLM tokens", f"{usage.llm_prompt_tokens} in, {usage.llm_completion_tokens} out"),
        ("LLM cost", f"${usage.llm_cost_usd:.4f} (estimated)"),
    ]
    items = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="summary usage">{items}</dl>'


def messages_html(taken: list[CallerMessage]) -> str:
    if not taken:
        return '<p class="muted">No message taken.</p>'
    return f'<ul class="messages">{"".join(_message(m) for m in taken)}</ul>'


def _message(message: CallerMessage) -> str:
    parts = [f"<li><strong>{esc(message.kind)}</strong>"]
    if message.department:
        parts.append(f" for {esc(message.department)}")
    if message.kind == "callback":
        parts.append(f" · call back {esc(message.callback_number or '—')}")
        if message.callback_when:
            parts.append(f" ({esc(message.callback_when)})")
    parts.append(f": {esc(message.message)}</li>")
    return "".join(parts)
