"""The `outbound:` block: validated like every dialplan key, rendered per call."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bridge.dialplan.models import Dialplan
from bridge.dialplan.outbound import MissingVariablesError, outbound_dialplan

OUTBOUND = {
    "opening_line": "Hi {name}, this is Acme.",
    "purpose": "Remind {name} of the appointment at {time}.",
    "voicemail_message": "Hi {name}, please call us back.",
}


def plan(**outbound: object) -> Dialplan:
    return Dialplan.model_validate(
        {"name": "reminders", "numbers": ["+15555550100"], "outbound": {**OUTBOUND, **outbound}}
    )


def test_a_call_gets_its_opening_line_as_greeting_and_its_purpose_in_what_the_agent_knows() -> None:
    call = outbound_dialplan(plan(context="Prefers mornings."), {"name": "Dana", "time": "9 AM"})
    assert call.greeting == "Hi Dana, this is Acme."
    assert not call.greet_in_twiml
    assert "Remind Dana of the appointment at 9 AM." in call.business_info
    assert "Prefers mornings." in call.business_info
    assert call.outbound is not None
    assert call.outbound.voicemail_message == "Hi Dana, please call us back."


def test_a_call_missing_a_variable_is_refused_naming_it() -> None:
    with pytest.raises(MissingVariablesError, match="needs variables: time"):
        outbound_dialplan(plan(), {"name": "Dana"})


@pytest.mark.parametrize("text", ["Hi {", "Hi {0}", "Hi {name.first}", "Hi {name!r}"])
def test_a_placeholder_that_is_not_a_variable_name_is_an_error(text: str) -> None:
    with pytest.raises(ValidationError, match="opening_line"):
        plan(opening_line=text)


def test_unknown_outbound_keys_and_bad_caller_ids_are_errors() -> None:
    with pytest.raises(ValidationError, match="ring_for"):
        plan(ring_for=10)
    with pytest.raises(ValidationError, match=r"E\.164"):
        plan(from_number="5551234")


def test_an_outbound_dialplan_without_numbers_needs_a_caller_id() -> None:
    with pytest.raises(ValidationError, match="from_number"):
        Dialplan.model_validate({"name": "x", "outbound": OUTBOUND})
    Dialplan.model_validate({"name": "x", "outbound": {**OUTBOUND, "from_number": "+15555550199"}})
