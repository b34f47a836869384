"""The dialplan's overflow answer, and the new dialplan keys refusing unknown departments."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bridge.dialplan.models import Department, Dialplan, Overflow
from bridge.twilio.webhooks import overflow_twiml

DEPARTMENTS = {"support": Department(target="+15555550120")}


def test_default_overflow_says_busy_and_hangs_up() -> None:
    twiml = overflow_twiml(Dialplan(name="plain"), "+15555550100")
    assert "all our lines are busy" in twiml and "<Hangup />" in twiml and "<Dial" not in twiml


def test_overflow_to_a_department_dials_it_from_the_called_number() -> None:
    dialplan = Dialplan(
        name="d",
        departments=DEPARTMENTS,
        overflow=Overflow(message="One moment.", department="support"),
    )
    twiml = overflow_twiml(dialplan, "+15555550100")
    assert "<Say>One moment.</Say>" in twiml
    assert '<Dial callerId="+15555550100"><Number>+15555550120</Number></Dial>' in twiml


def test_reject_overflow_refuses_the_call_unanswered() -> None:
    twiml = overflow_twiml(Dialplan(name="r", overflow=Overflow(reject=True)), "+15555550100")
    assert "<Reject" in twiml and "<Say>" not in twiml


@pytest.mark.parametrize(
    "values",
    [{"overflow": {"department": "legal"}}, {"transfer_fallback": "legal"}],
)
def test_overflow_and_fallback_must_name_a_department(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="unknown department 'legal'"):
        Dialplan.model_validate({"name": "x", "departments": DEPARTMENTS, **values})
