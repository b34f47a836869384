"""The campaigns pages' HTML: the list, the new-campaign form, one campaign's summary and its
progress (counts, outcomes, and each contact with links to its calls)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bridge.console.auth import ConsoleSession
from bridge.console.html import csrf_field, esc, when
from bridge.store.database import Row

CONTACTS_SHOWN = 200  # more are in the results download
STATES = ("pending", "dialing", "live", "done")
# Which buttons a campaign in each status shows (MOVES in bridge/api.py says what is allowed).
ACTIONS = {"running": ("pause", "cancel"), "paused": ("resume", "cancel")}


def campaign_list(campaigns: list[Row], counts: list[dict[str, int]]) -> str:
    if not campaigns:
        return '<p class="muted">No campaign yet.</p>'
    rows = "".join(
        f'<tr><td><a href="/console/campaigns/{esc(c["campaign_id"])}">{esc(c["campaign_id"])}'
        f"</a></td><td>{esc(c['settings']['dialplan'])}</td>"
        f'<td><span class="badge campaign-{esc(c["status"])}">{esc(c["status"])}</span></td>'
        f"<td>{n.get('done', 0)} of {sum(n.values())}</td><td>{when(c['created_at'])}</td></tr>"
        for c, n in zip(campaigns, counts, strict=True)
    )
    return f"""<div class="scroll"><table class="campaigns">
<caption>Campaigns, newest first</caption>
<thead><tr><th scope="col">Campaign</th><th scope="col">Dialplan</th><th scope="col">Status</th>
<th scope="col">Contacts done</th><th scope="col">Created</th></tr></thead>
<tbody>{rows}</tbody></table></div>"""


def new_campaign_form(
    session: ConsoleSession, dialplans: list[str], fields: dict[str, str], problems: list[str]
) -> str:
    def value(name: str, default: str) -> str:
        return esc(fields.get(name) or default)

    chosen = fields.get("dialplan", "")
    options = "".join(
        f'<option value="{esc(name)}"{" selected" if name == chosen else ""}>{esc(name)}</option>'
        for name in dialplans
    )
    alert = ""
    if problems:
        items = "".join(f"<li>{esc(problem)}</li>" for problem in problems)
        alert = (
            '<div class="error" role="alert"><p>The campaign was not created; nothing was '
            f'dialled:</p><ul class="problems">{items}</ul></div>'
        )
    if not dialplans:
        return '<h2>New campaign</h2><p class="note">No dialplan has an outbound: block.</p>'
    return f"""<h2 id="h-new">New campaign</h2>{alert}
<form method="post" action="/console/campaigns" enctype="multipart/form-data" class="stack"
 aria-labelledby="h-new">
{csrf_field(session)}
<div><label for="contacts">Contacts (CSV)</label>
<input id="contacts" name="contacts" type="file" accept=".csv,text/csv" required
 aria-describedby="contacts-help">
<p id="contacts-help" class="muted">A <code>phone</code> column (E.164, like +15551234567),
then one column per variable the dialplan's outbound texts name.</p></div>
<div><label for="dialplan">Dialplan</label>
<select id="dialplan" name="dialplan">{options}</select></div>
<div><label for="max_live">Calls live at once</label>
<input id="max_live" name="max_live" inputmode="numeric" value="{value("max_live", "5")}"></div>
<div><label for="rate_per_s">New calls per second</label>
<input id="rate_per_s" name="rate_per_s" inputmode="decimal"
 value="{value("rate_per_s", "1")}"></div>
<div><label for="hours">Calling hours, in each callee's time zone</label>
<input id="hours" name="hours" value="{value("hours", "09:00-20:00")}"></div>
<div><label for="retry_delay_s">Retry no-answer, busy and failed after (seconds)</label>
<input id="retry_delay_s" name="retry_delay_s" inputmode="numeric"
 value="{value("retry_delay_s", "600")}"></div>
<div><label for="max_attempts">Calls per contact at most</label>
<input id="max_attempts" name="max_attempts" inputmode="numeric"
 value="{value("max_attempts", "3")}"></div>
<div><label for="fallback_timezone">Time zone for numbers of no known zone</label>
<input id="fallback_timezone" name="fallback_timezone"
 value="{value("fallback_timezone", "UTC")}"></div>
<div><button type="submit">Create and start dialling</button></div>
</form>"""


def summary(campaign: Row, session: ConsoleSession) -> str:
    """What does not change while it runs: its settings; and what can be done with it."""
    campaign_id, status = str(campaign["campaign_id"]), str(campaign["status"])
    settings: dict[str, Any] = campaign["settings"]
    rows = [
        ("Dialplan", settings["dialplan"]),
        ("Created", when(campaign["created_at"])),
        ("Calls live at once", settings["max_live"]),
        ("New calls per second", settings["rate_per_s"]),
        ("Calling hours", f"{settings['hours']} (fallback zone {settings['fallback_timezone']})"),
        (
            "Retries",
            f"after {settings['retry_delay_s']} s, {settings['max_attempts']} calls at most",
        ),
    ]
    items = "".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>" for label, value in rows)
    buttons = "".join(
        f'<form method="post" action="/console/campaigns/{esc(campaign_id)}/{action}" '
        f'class="inline">{csrf_field(session)}<button type="submit">{action.title()}</button>'
        "</form>"
        for action in ACTIONS.get(status, ())
    )
    base = f"/console/campaigns/{esc(campaign_id)}/results"
    downloads = (
        f'<p>Results: <a href="{base}.csv" download>CSV</a> · '
        f'<a href="{base}.json" download>JSON</a></p>'
    )
    return f'<dl class="summary">{items}</dl><div class="actions">{buttons}</div>{downloads}'


def progress(campaign: Row, contacts: list[Row]) -> str:
    """The status, contacts by state and outcome, and each contact with its calls."""
    states = Counter(str(c["state"]) for c in contacts)
    outcomes = Counter(str(c["outcome"]) for c in contacts if c["state"] == "done")
    counts = " · ".join(f"{state} {states.get(state, 0)}" for state in STATES)
    tally = ", ".join(f"{name} {n}" for name, n in sorted(outcomes.items())) or "none yet"
    status = esc(campaign["status"])
    head = (
        f'<p>Status: <span class="badge campaign-{status}">{status}</span></p>'
        f"<p>Contacts ({len(contacts)}): {counts}</p><p>Outcomes: {esc(tally)}</p>"
    )
    shown = contacts[:CONTACTS_SHOWN]
    more = (
        f'<p class="muted">The first {CONTACTS_SHOWN} of {len(contacts)}; the results download '
        "has them all.</p>"
        if len(contacts) > CONTACTS_SHOWN
        else ""
    )
    rows = "".join(_contact_row(contact) for contact in shown)
    return f"""{head}<div class="scroll"><table class="contacts">
<caption>Contacts</caption>
<thead><tr><th scope="col">Row</th><th scope="col">Phone</th><th scope="col">State</th>
<th scope="col">Calls</th><th scope="col">Outcome</th></tr></thead>
<tbody>{rows}</tbody></table></div>{more}"""


def _contact_row(contact: Row) -> str:
    calls = " ".join(
        f'<a href="/console/calls/{esc(sid)}">call {index}</a>'
        for index, sid in enumerate(contact["call_sids"], start=1)
    )
    return (
        f"<tr><td>{int(contact['row_no'])}</td><td>{esc(contact['phone'])}</td>"
        f"<td>{esc(contact['state'])}</td><td>{calls or '—'}</td>"
        f"<td>{esc(contact['outcome'] or '—')}</td></tr>"
    )
