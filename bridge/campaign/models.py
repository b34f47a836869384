"""A campaign's settings and contacts, checked before anything is stored or dialled."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_zones
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bridge.dialplan.models import E164

HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
MAX_CONTACTS = 100_000


class CampaignSettings(BaseModel):
    """How a campaign dials; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    dialplan: str = Field(min_length=1)
    max_live: int = Field(default=5, ge=1, le=1000)  # calls live at once
    rate_per_s: float = Field(default=1.0, gt=0, le=100)  # new calls per second
    hours: str = "09:00-20:00"  # calling hours in the callee's own time zone
    retry_delay_s: int = Field(default=600, ge=0, le=7 * 86400)
    max_attempts: int = Field(default=3, ge=1, le=10)
    # For numbers whose zone is unknown (or a country with several, none sure).
    fallback_timezone: str = "UTC"

    @field_validator("hours")
    @classmethod
    def _hours_open(cls, value: str) -> str:
        match = HOURS.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not HH:MM-HH:MM, e.g. 09:00-20:00")
        start, end = value.split("-")
        if start >= end:
            raise ValueError(f"calling hours {value} never open: start must come before end")
        return value

    @field_validator("fallback_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone name like America/New_York") from None
        return value

    def opening(self) -> tuple[time, time]:
        start, end = self.hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)


@dataclass(frozen=True)
class Contact:
    row: int  # the line of the CSV file it came from
    phone: str
    variables: dict[str, str] = field(default_factory=dict)
    time_zones: tuple[str, ...] = ()


class CampaignInputError(ValueError):
    """Every problem found in a campaign's input, each naming its row or field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def field_problems(exc: ValidationError) -> list[str]:
    """Each problem of a request's fields, as `field: message`."""
    return [
        f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
        for error in exc.errors()
    ]


def time_zones(phone: str, fallback: str) -> tuple[str, ...]:
    """The zones a number may ring in (`phonenumbers`), else the fallback."""
    zones = number_zones.time_zones_for_number(phonenumbers.parse(phone))
    known = tuple(zone for zone in zones if zone != "Etc/Unknown")
    return known or (fallback,)


def parse_contacts(text: str, needed: set[str], fallback_timezone: str) -> list[Contact]:
    """Contacts from CSV: a `phone` column, every other column a variable for the dialplan.

    All problems in one pass (CampaignInputError): a row with the wrong number of fields, a
    number that is not E.164, one listed twice, a variable the dialplan needs left empty.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise CampaignInputError(["contacts: the file is empty"])
    header = [name.strip() for name in header]
    if "phone" not in header:
        raise CampaignInputError(["row 1: no 'phone' column in the header"])
    problems: list[str] = []
    missing_columns = sorted(needed - set(header))
    if missing_columns:
        problems.append(f"row 1: the dialplan needs columns: {', '.join(missing_columns)}")
    contacts: list[Contact] = []
    seen: dict[str, int] = {}
    for fields in reader:
        row = reader.line_num
        if not any(value.strip() for value in fields):
            continue
        if len(fields) != len(header):
            problems.append(f"row {row}: {len(fields)} fields, the header has {len(header)}")
            continue
        values = {name: value.strip() for name, value in zip(header, fields, strict=True)}
        phone = values.pop("phone")
        if not E164.match(phone):
            problems.append(f"row {row}: phone: {phone!r} is not E.164 like +15551234567")
            continue
        if phone in seen:
            problems.append(f"row {row}: phone: {phone} is already on row {seen[phone]}")
            continue
        empty = sorted(name for name in needed if not values.get(name))
        if empty and not missing_columns:
            problems.append(f"row {row}: empty: {', '.join(empty)}")
            continue
        seen[phone] = row
        contacts.append(Contact(row, phone, values, time_zones(phone, fallback_timezone)))
        if len(contacts) > MAX_CONTACTS:
            raise CampaignInputError([f"contacts: more than {MAX_CONTACTS} rows"])
    if not contacts and not problems:
        problems.append("contacts: no rows after the header")
    if problems:
        raise CampaignInputError(problems)
    return contacts


def within_hours(settings: CampaignSettings, zones: tuple[str, ...], now: datetime) -> bool:
    """True when it is calling time in every zone the number may ring in."""
    start, end = settings.opening()
    return all(start <= now.astimezone(ZoneInfo(zone)).time() < end for zone in zones)


def next_opening(settings: CampaignSettings, zones: tuple[str, ...], now: datetime) -> datetime:
    """The first moment, a minute at most past the true one, when `within_hours` holds."""
    start, _ = settings.opening()
    candidates = []
    for zone in zones:
        local = now.astimezone(ZoneInfo(zone))
        opening = local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
        if opening <= local:
            opening += timedelta(days=1)
        candidates.append(opening)
    # Zones far apart may never share an hour: then the latest opening of each is tried.
    moment = max(candidates)
    for _ in range(48 * 60 // 15):
        if within_hours(settings, zones, moment):
            return moment
        moment += timedelta(minutes=15)
    return max(candidates) + timedelta(days=1)
