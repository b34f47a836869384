"""Call listings: the search form, the results table, and the live-calls panel."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import get_args
from urllib.parse import urlencode

from aiohttp import web

from bridge.console.html import esc, when
from bridge.records import CallRecord, CallStatus, CallUsage
from bridge.store.base import CallQuery, CallSummary

PAGE_SIZE = 50
# Beyond these a listing is empty anyway; past them the numbers overflow the database's.
MAX_PAGE = 100_000
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
STATUSES: tuple[str, ...] = get_args(CallStatus)


class BadQuery(ValueError):
    """A search field the console cannot read; the message says which."""


def query_from(params: web.Request | dict[str, str]) -> tuple[CallQuery, int]:
    """The store query (and page number) for the search form's fields."""
    fields = params.query if isinstance(params, web.Request) else params
    page = _int(fields.get("page", "1"), "page")
    if not 1 <= page <= MAX_PAGE:
        raise BadQuery(f"page must be between 1 and {MAX_PAGE}")
    status = fields.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadQuery(f"unknown outcome {status!r}")
    since = _day(fields.get("since", ""), "from date")
    until = _day(fields.get("until", ""), "to date")
    query = CallQuery(
        number=fields.get("number", "").strip() or None,
        dialplan=fields.get("dialplan") or None,
        status=status,  # type: ignore[arg-type]
        since=since,
        until=until + timedelta(days=1) if until else None,  # the whole "to" day
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return query, page


def search_form(fields: dict[str, str], dialplans: list[str]) -> str:
    def selected(name: str, value: str) -> str:
        return " selected" if fields.get(name, "") == value else ""

    plan_options = "".join(
        f'<option value="{esc(name)}"{selected("dialplan", name)}>{esc(name)}</option>'
        for name in dialplans
    )
    status_options = "".join(
        f'<option value="{s}"{selected("status", s)}>{s}</option>' for s in STATUSES
    )
    return f"""<form method="get" action="/console/calls" class="search" role="search">
<div><label for="q-number">Number</label>
<input id="q-number" name="number" type="search" inputmode="tel"
 value="{esc(fields.get("number", ""))}" placeholder="+1555…"></div>
<div><label for="q-since">From date</label>
<input id="q-since" name="since" type="date" value="{esc(fields.get("since", ""))}"></div>
<div><label for="q-until">To date</label>
<input id="q-until" name="until" type="date" value="{esc(fields.get("until", ""))}"></div>
<div><label for="q-dialplan">Dialplan</label>
<select id="q-dialplan" name="dialplan"><option value="">any</option>{plan_options}</select></div>
<div><label for="q-status">Outcome</label>
<select id="q-status" name="status"><option value="">any</option>{status_options}</select></div>
<div><button type="submit">Search</button></div>
</form>"""


def calls_table(calls: list[CallSummary], caption: str) -> str:
    if not calls:
        return f'<p class="muted">{esc(caption)}: none.</p>'
    rows = "".join(
        f'<tr><td><a href="/console/calls/{esc(call.call_sid)}">{when(call.started_at)}</a></td>'
        f"<td>{esc(call.from_number)}</td><td>{esc(call.to_number)}</td>"
        f"<td>{esc(call.dialplan)}</td>"
        f'<td><span class="badge status-{esc(call.status)}">{esc(call.status)}</span></td>'
        f"<td>{call.turn_count}</td>{usage_cells(call.usage)}<td>{esc(call.end_reason)}</td></tr>"
        for call in calls
    )
    return f"""<div class="scroll"><table class="calls">
<caption>{esc(caption)}</caption>
<thead><tr><th scope="col">Started</th><th scope="col">From</th><th scope="col">To</th>
<th scope="col">Dialplan</th><th scope="col">Outcome</th><th scope="col">Turns</th>
<th scope="col">Minutes</th><th scope="col">Speech (caller / agent)</th>
<th scope="col">LLM cost</th><th scope="col">Reason</th></tr></thead>
<tbody>{rows}</tbody></table></div>"""


def usage_cells(usage: CallUsage | None) -> str:
    """Minutes, speaking time and the LLM's dollars; dashes until the call's notes exist."""
    if usage is None:
        return "<td>—</td>" * 3
    return (
        f"<td>{usage.call_minutes:.1f}</td>"
        f"<td>{usage.caller_speech_seconds:.0f} s / {usage.agent_speech_seconds:.0f} s</td>"
        f"<td>${usage.llm_cost_usd:.4f}</td>"
    )


def pager(fields: dict[str, str], page: int, full_page: bool) -> str:
    links = []
    if page > 1:
        links.append(f'<a href="/console/calls?{_with_page(fields, page - 1)}">Newer</a>')
    if full_page:
        links.append(f'<a href="/console/calls?{_with_page(fields, page + 1)}">Older</a>')
    return f'<nav class="pager" aria-label="Pages">{" ".join(links)}</nav>' if links else ""


def live_panel(live: list[CallRecord], recent: list[CallSummary]) -> str:
    """Calls in progress (with their latest line), then the most recent calls."""
    if live:
        items = "".join(_live_item(record) for record in live)
        now = f'<ul class="live-calls">{items}</ul>'
    else:
        now = '<p class="muted">No call in progress.</p>'
    return (
        f'<h2 id="h-live">In progress ({len(live)})</h2>{now}'
        f"{calls_table(recent, 'Most recent calls')}"
    )


def _live_item(record: CallRecord) -> str:
    last = record.turns[-1] if record.turns else None
    line = ""
    if last is not None:
        said = last.heard or last.agent or last.caller
        line = f'<p class="last-line">{esc(said)}</p>'
    return (
        f'<li class="live-call"><a href="/console/calls/{esc(record.call_sid)}">'
        f"{esc(record.from_number or 'unknown')} → {esc(record.to_number or 'unknown')}</a> "
        f'<span class="muted">{esc(record.dialplan)} · since {when(record.started_at)} · '
        f"{len(record.turns)} turns</span>{line}</li>"
    )


def _with_page(fields: dict[str, str], page: int) -> str:
    kept = {key: value for key, value in fields.items() if value and key != "page"}
    return esc(urlencode({**kept, "page": page}))


def _int(value: str, label: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise BadQuery(f"{label} must be a number") from exc


def _day(value: str, label: str) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise BadQuery(f"{label} must be a date like 2024-05-31") from exc
    if not EARLIEST <= day <= LATEST:
        raise BadQuery(f"{label} must be between {EARLIEST} and {LATEST}")
    return datetime.combine(day, time.min, tzinfo=UTC)
