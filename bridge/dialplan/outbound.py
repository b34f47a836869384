"""What a dialplan's outbound calls are for: the `outbound:` block, and one call's copy of it."""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from bridge.dialplan.models import Dialplan

DEFAULT_VOICEMAIL = ""
DEFAULT_OPT_OUT_CONFIRMATION = (
    "Understood. You won't be called again. Sorry for the trouble, and goodbye."
)


class OutboundSettings(BaseModel):
    """`outbound:` in a dialplan. Texts may name per-call variables as `{name}`."""

    model_config = ConfigDict(extra="forbid")

    # The caller ID of outbound calls (E.164); default: the dialplan's first number.
    from_number: str | None = None
    opening_line: str = Field(min_length=1)  # what a person hears first
    purpose: str = Field(min_length=1)  # why we call, told to the agent
    context: str = ""  # anything else the agent should know about this callee
    voicemail_message: str = ""  # left after the beep; empty: hang up on machines
    opt_out_confirmation: str = DEFAULT_OPT_OUT_CONFIRMATION
    ring_timeout_s: int = Field(default=30, ge=5, le=600)  # Twilio's `Timeout`
    machine_detection_timeout_s: int = Field(default=30, ge=3, le=59)

    @field_validator("from_number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        from bridge.dialplan.models import E164

        if value is not None and not E164.match(value):
            raise ValueError(f"{value!r} is not an E.164 number like +15551234567")
        return value

    @field_validator("opening_line", "purpose", "context", "voicemail_message")
    @classmethod
    def _placeholders_are_names(cls, value: str) -> str:
        placeholders(value)
        return value

    def variables(self) -> set[str]:
        """Every `{name}` the texts use."""
        texts = (self.opening_line, self.purpose, self.context, self.voicemail_message)
        return set().union(*(placeholders(text) for text in texts))


class MissingVariablesError(ValueError):
    """An outbound call lacks values its dialplan's texts name."""


def placeholders(text: str) -> set[str]:
    """The `{name}` fields of a text; ValueError on a malformed one (`{`, `{0}`, `{a.b}`)."""
    names: set[str] = set()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{{{name}}} is not a variable name (letters, digits, _)")
        names.add(name)
    return names


def render(text: str, variables: dict[str, str]) -> str:
    return text.format_map(variables)


def outbound_dialplan(dialplan: Dialplan, variables: dict[str, str]) -> Dialplan:
    """The dialplan one outbound call runs with: the opening line as its greeting, and the
    purpose and context (with the call's variables) in what the agent knows.

    Raises MissingVariablesError naming any variable the texts use but `variables` lacks.
    """
    outbound = dialplan.outbound
    if outbound is None:
        raise ValueError(f"dialplan {dialplan.name!r} has no outbound: block")
    missing = sorted(outbound.variables() - variables.keys())
    if missing:
        raise MissingVariablesError(
            f"dialplan {dialplan.name!r} needs variables: {', '.join(missing)}"
        )
    brief = (
        "You placed this call; the person did not call you. "
        f"Purpose of the call: {render(outbound.purpose, variables)}"
    )
    if outbound.context:
        brief += f" Context: {render(outbound.context, variables)}"
    info = f"{dialplan.business_info.strip()}\n{brief}".strip()
    return dialplan.model_copy(
        update={
            "greeting": render(outbound.opening_line, variables),
            "greet_in_twiml": False,
            "business_info": info,
            "outbound": outbound.model_copy(
                update={"voicemail_message": render(outbound.voicemail_message, variables)}
            ),
        }
    )
