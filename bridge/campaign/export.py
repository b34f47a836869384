"""A campaign's results: one line per contact, as CSV or JSON."""

from __future__ import annotations

import csv
import io
from typing import Any

from bridge.store.database import Row

COLUMNS = ("row", "phone", "attempts", "state", "outcome", "duration_s", "call_sid", "transcript")


def results(contacts: list[Row], base_url: str) -> list[dict[str, Any]]:
    """Each contact once: attempts, outcome, the last call's duration and its record's link."""
    out = []
    for contact in contacts:
        started, ended = contact.get("started_at"), contact.get("ended_at")
        duration = round((ended - started).total_seconds(), 1) if started and ended else None
        sid = str(contact["call_sid"])
        out.append(
            {
                "row": int(contact["row_no"]),
                "phone": contact["phone"],
                "attempts": int(contact["attempts"]),
                "state": contact["state"],
                "outcome": contact["outcome"],
                "duration_s": duration,
                "call_sid": sid,
                "transcript": f"{base_url}/api/calls/{sid}" if sid else "",
                "variables": contact["variables"],
            }
        )
    return out


def as_csv(lines: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for line in lines:
        duration = line["duration_s"]
        writer.writerow({**line, "duration_s": "" if duration is None else duration})
    return buffer.getvalue()
