"""The post-call step: a summary, a disposition from the dialplan's list and the fields of
its JSON Schema, written by the dialplan's LLM chain when it has a provider, by rules
otherwise. The LLM's notes are checked (JSON, a listed disposition, fields valid against the
schema); notes that fail are refused for the rules', and why is kept in `problems`."""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator

from bridge.call.llm_writer import LlmWriter
from bridge.call.transfer_brief import conversation_text, said_lines
from bridge.dialplan.models import AfterCallSettings, Dialplan
from bridge.records import CallRecord, WrapUp, messages_of

WRAP_UP_SYSTEM = (
    "You write the notes of a phone call between a caller and an automated assistant, for "
    "the business's records. Answer with one JSON object and nothing else: "
    '{"summary": "<two or three sentences>", "disposition": "<one of the allowed values>", '
    '"fields": {<an object valid against the given JSON Schema>}}. Leave out a field you '
    "cannot tell from the call unless the schema requires it."
)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def summary(record: CallRecord) -> str:
    """By rules: what the caller said, and what the agent did (tools), in a line or two."""
    said = said_lines(record)
    tools = [tool.name for t in record.turns for tool in t.tools]
    parts = [f"Caller said: {' / '.join(said)[:400]}." if said else "The caller said nothing."]
    if tools:
        parts.append(f"Agent used: {', '.join(tools)}.")
    return " ".join(parts)


def disposition(record: CallRecord, choices: list[str]) -> str:
    """By rules, one of the dialplan's `dispositions`: transferred, callback, message,
    resolved or abandoned when the list has it, else its first."""
    transferred = record.status == "transferred" or any(
        leg.status in ("accepted", "completed", "answered") for leg in record.legs
    )
    wanted = "transferred" if transferred else "resolved" if said_lines(record) else "abandoned"
    taken = messages_of(record)
    if taken and not transferred:  # the call ended with a message: say so, if listed
        wanted = "callback" if any(m.kind == "callback" for m in taken) else "message"
    return wanted if wanted in choices else choices[0]


def rules_fields(record: CallRecord, schema: dict[str, Any] | None) -> dict[str, Any]:
    """The schema's properties that a tool's arguments or result named during the call (the
    last value wins): an order checked gives `order_id`, a transfer `department`."""
    if not schema:
        return {}
    wanted = schema.get("properties", {})
    found: dict[str, Any] = {}
    for turn in record.turns:
        for tool in turn.tools:
            for source in (tool.arguments, tool.result):
                for name, value in source.items():
                    if name in wanted and value not in (None, ""):
                        found[name] = value
    return found


def schema_problems(fields: dict[str, Any], schema: dict[str, Any] | None) -> list[str]:
    if not schema:
        return []
    validator = Draft202012Validator(schema)
    return [
        f"fields{''.join(f'.{part}' for part in error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(fields), key=lambda e: list(e.absolute_path))
    ]


def rules_wrap_up(record: CallRecord, settings: AfterCallSettings) -> WrapUp:
    fields = rules_fields(record, settings.fields)
    return WrapUp(
        summary=summary(record),
        disposition=disposition(record, settings.dispositions),
        fields=fields,
        by="rules",
        problems=schema_problems(fields, settings.fields),
    )


def checked_notes(text: str, settings: AfterCallSettings) -> tuple[WrapUp | None, list[str]]:
    """The LLM's answer as notes, or None and what is wrong with it."""
    try:
        notes = json.loads(_FENCE.sub("", text.strip()))
    except ValueError:
        return None, ["the LLM's answer is not JSON"]
    if not isinstance(notes, dict):
        return None, ["the LLM's answer is not a JSON object"]
    problems = []
    written = notes.get("summary")
    if not isinstance(written, str) or not written.strip():
        problems.append("summary: missing or not text")
    chosen = notes.get("disposition")
    if chosen not in settings.dispositions:
        problems.append(f"disposition: {chosen!r} is not one of {settings.dispositions}")
    fields = notes.get("fields", {})
    if not isinstance(fields, dict):
        problems.append("fields: not an object")
        fields = {}
    problems += schema_problems(fields, settings.fields)
    if problems:
        return None, problems
    notes = WrapUp(summary=str(written).strip(), disposition=str(chosen), fields=fields, by="llm")
    return notes, []


def _prompt(record: CallRecord, settings: AfterCallSettings) -> str:
    schema = json.dumps(settings.fields or {"type": "object", "properties": {}})
    legs = ", ".join(f"{leg.kind} {leg.department} {leg.status}".strip() for leg in record.legs)
    return (
        f"Allowed dispositions: {json.dumps(settings.dispositions)}\n"
        f"JSON Schema of fields: {schema}\n"
        f"Call outcome: {record.status}{f'; transfers: {legs}' if legs else ''}\n"
        f"The call:\n{conversation_text(record)}"
    )


async def wrap_up(record: CallRecord, dialplan: Dialplan, writer: LlmWriter | None) -> WrapUp:
    settings = dialplan.after_call
    rules = rules_wrap_up(record, settings)
    if writer is None or not settings.llm:
        return rules
    written = await writer.write(
        dialplan, WRAP_UP_SYSTEM, _prompt(record, settings), max_tokens=600, timeout_s=20.0
    )
    if written is None:
        return rules
    notes, problems = checked_notes(written.text, settings)
    if notes is None:
        return rules.model_copy(update={"problems": problems, "usage": written.usage})
    return notes.model_copy(update={"usage": written.usage})
