"""The dialplans page and the "place a test call" page."""

from __future__ import annotations

import asyncio
import wave

from aiohttp import web

from bridge.audio.phone import PHONE_RATE
from bridge.audio.wav import read_wav_mono
from bridge.console.auth import ConsoleSession
from bridge.console.forms import Form
from bridge.console.html import csrf_field, esc, page
from bridge.console.sim_calls import (
    SPEEDS,
    CallRefused,
    SimCallRunner,
    parse_script,
    refusal,
    upload_steps,
)
from bridge.dialplan.loader import check_dialplans
from bridge.dialplan.models import Dialplan
from bridge.services import Services

DEFAULT_LINES = "Hi, can you put me through to billing, please?"
DEFAULT_CALLER = "+15555550123"


class AdminPages:
    def __init__(self, services: Services, test_calls: SimCallRunner) -> None:
        self._services = services
        self._test_calls = test_calls

    # -- dialplans ------------------------------------------------------------------------

    async def dialplans(self, request: web.Request, session: ConsoleSession) -> web.StreamResponse:
        folder = self._services.settings.dialplans_dir
        problems = await asyncio.to_thread(check_dialplans, folder)
        if problems:
            items = "".join(f"<li><code>{esc(problem)}</code></li>" for problem in problems)
            check = (
                f'<div class="error" role="alert"><p>{len(problems)} problem(s) in '
                f"<code>{esc(folder)}</code> now (the server keeps serving what it loaded "
                f'at start):</p><ul class="problems">{items}</ul></div>'
            )
        else:
            check = f'<p class="ok">Every dialplan in <code>{esc(folder)}</code> is valid.</p>'
        plans = "".join(_dialplan(plan) for plan in self._services.dialplans)
        body = f"{check}<h2>Serving</h2>{plans or '<p class=muted>None.</p>'}"
        return page("Dialplans", body, session, "/console/dialplans")

    # -- test calls -----------------------------------------------------------------------

    async def test_call_form(
        self, request: web.Request, session: ConsoleSession
    ) -> web.StreamResponse:
        return self._test_call_page(session, {}, "")

    async def place_test_call(
        self, request: web.Request, session: ConsoleSession, form: Form
    ) -> web.StreamResponse:
        try:
            if form.upload is not None:
                await _check_wav(form)
            steps = upload_steps(form.upload) + parse_script(form.get("lines"))
            call_sid = self._test_calls.start(
                steps,
                caller=form.get("caller", DEFAULT_CALLER).strip() or DEFAULT_CALLER,
                called=form.get("called").strip(),
                speed=_speed(form.get("speed", "1")),
                upload=form.upload,
            )
        except CallRefused as exc:
            await form.discard()
            return self._test_call_page(session, form.fields, str(exc), status=400)
        raise web.HTTPSeeOther(f"/console/calls/{call_sid}")

    def _test_call_page(
        self, session: ConsoleSession, fields: dict[str, str], error: str, status: int = 200
    ) -> web.Response:
        reason = refusal(self._services.settings)
        if reason is not None:
            return page(
                "Place a test call",
                f'<p class="note">{esc(reason)}</p>',
                session,
                "/console/test-call",
            )
        numbers = [
            (number, plan.name) for plan in self._services.dialplans for number in plan.numbers
        ]
        chosen = fields.get("called") or (numbers[0][0] if numbers else "")
        options = (
            "".join(
                f'<option value="{esc(number)}"{" selected" if number == chosen else ""}>'
                f"{esc(number)} ({esc(name)})</option>"
                for number, name in numbers
            )
            or f'<option value="{esc(chosen)}">{esc(chosen or "any")}</option>'
        )
        speeds = "".join(
            f'<option value="{s:g}"{" selected" if fields.get("speed", "1") == f"{s:g}" else ""}>'
            f"{s:g}× real time</option>"
            for s in SPEEDS
        )
        alert = f'<p class="error" role="alert">{esc(error)}</p>' if error else ""
        body = f"""{alert}<p>The simulator calls this server like Twilio would: a signed webhook,
then the media stream. Its REST requests go to the local fake Twilio API.</p>
<form method="post" action="/console/test-call" enctype="multipart/form-data" class="stack">
{csrf_field(session)}
<div><label for="called">Number to call</label>
<select id="called" name="called">{options}</select></div>
<div><label for="caller">Caller's number</label>
<input id="caller" name="caller" inputmode="tel"
 value="{esc(fields.get("caller", DEFAULT_CALLER))}"></div>
<div><label for="lines">What the caller says, one line per turn</label>
<textarea id="lines" name="lines" rows="5" aria-describedby="lines-help">{
            esc(fields.get("lines", DEFAULT_LINES))
        }</textarea>
<p id="lines-help" class="muted">A line like <code>keys: 4572#</code> presses keys.</p></div>
<div><label for="audio">Or first play a WAV file (optional)</label>
<input id="audio" name="audio" type="file" accept=".wav,audio/wav"></div>
<div><label for="speed">Speed</label><select id="speed" name="speed">{speeds}</select></div>
<div><button type="submit">Place the call</button></div>
</form>"""
        return page("Place a test call", body, session, "/console/test-call", status=status)


def _dialplan(plan: Dialplan) -> str:
    numbers = ", ".join(plan.numbers) or "none"
    departments = ", ".join(
        f"{name} → {department.target}" for name, department in plan.departments.items()
    )
    orders = plan.orders.type if plan.orders is not None else "none"
    rows = [
        ("Numbers", numbers + (" (default dialplan)" if plan.default else "")),
        ("Business", plan.business_name or "—"),
        ("Greeting", plan.greeting),
        ("Departments", departments or "none"),
        ("Orders", orders),
        ("File", str(plan.source or "built in")),
    ]
    items = "".join(f"<dt>{label}</dt><dd>{esc(value)}</dd>" for label, value in rows)
    return (
        f'<section class="dialplan" aria-labelledby="dp-{esc(plan.name)}">'
        f'<h3 id="dp-{esc(plan.name)}">{esc(plan.name)}</h3><dl class="summary">{items}</dl>'
        "</section>"
    )


async def _check_wav(form: Form) -> None:
    assert form.upload is not None
    try:
        await asyncio.to_thread(read_wav_mono, form.upload, PHONE_RATE)
    except (wave.Error, EOFError, ValueError) as exc:
        raise CallRefused(f"the file is not a PCM WAV file: {exc}") from exc


def _speed(value: str) -> float:
    try:
        return float(value)
    except ValueError as exc:
        raise CallRefused("speed must be a number") from exc
