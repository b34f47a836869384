"""The one place log lines are made safe: customers' numbers masked, control characters escaped.

Phone numbers (E.164, North American, or a bare national number of 10 to 15 digits), SIP
URIs' user parts (`sip:***ce@host`), order ids (digits or letters, `AB-77123`), card-like
numbers and verification answers are cut to their last few characters, enough to tell two
apart while debugging and too little to look a customer up. Call SIDs (`CA` + 32 hex) are
ids of ours and stay whole. Newlines and other control characters are escaped (`\\n`), so
nothing a request carries can start a forged line.
`MaskingFilter` applies this to the message and to every extra field of a record (the
CallSid prefix among them), whatever the formatter.
"""

from __future__ import annotations

import logging
import re

# 13 to 19 digits, optionally grouped by spaces or dashes: a payment card's shape.
_CARD = re.compile(r"(?<![\w+])\d(?:[ -]?\d){12,18}(?!\w)")
# A SIP URI's user part (sip:alice@pbx.example.com, sips:+15035550142@x.sip.twilio.com): who
# called, as much as a number is; the host stays (it names a trunk or domain, not a person).
_SIP_USER = re.compile(r"(?P<lead>\bsips?:)(?P<user>[^@\s<>;:]+)(?=@)", re.IGNORECASE)
# E.164 (+15035550142), North American forms ((503) 555-0142, 503-555-0142, 503.555.0142) and
# national numbers written without `+` (5035550142, 07700900123): 10 to 15 digits alone.
_PHONE = re.compile(
    r"(?<![\w+])\+\d{7,15}(?!\w)|(?<!\w)(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ]\d{4}(?!\w)"
    r"|(?<![\w+.])\d{10,15}(?![\w.])"
)
# "order 4572", "order #4572", "order number 4572", "order_id': '4572", "order_id=4572", and
# a verification answer ("verification': '97205", "zip 97205").
_ORDER = re.compile(
    r"(?P<lead>\b(?:order(?:[_ ]?(?:id|number|no))?|verification|zip(?:[_ ]?code)?)"
    r"['\"]?\s*[:=]?\s*['\"]?(?:#\s*)?)"
    r"(?P<id>(?=[\w-]*\d)[A-Za-z0-9][\w-]{2,})",
    re.IGNORECASE,
)


def _keep_last(text: str, keep: int) -> str:
    """Every digit or letter but the last `keep` becomes `*`; separators stay."""
    shown = 0
    out = []
    for char in reversed(text):
        if char.isalnum():
            out.append(char if shown < keep else "*")
            shown += 1
        else:
            out.append(char)
    return "".join(reversed(out))


# Control characters (CR, LF, escape...) and Unicode line separators: a log field is one line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


def _escaped(found: re.Match[str]) -> str:
    char = found.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}")


def mask(text: str) -> str:
    """`text` on one line, with phone numbers, order ids and card-like numbers masked."""
    text = _CONTROL.sub(_escaped, text)
    text = _SIP_USER.sub(lambda found: found["lead"] + _keep_last(found["user"], 2), text)
    text = _CARD.sub(lambda found: _keep_last(found.group(), 4), text)
    text = _PHONE.sub(lambda found: _keep_last(found.group(), 2), text)
    return _ORDER.sub(lambda found: found["lead"] + _keep_last(found["id"], 2), text)


# `log.error(..., extra=NOT_CALLER_DATA)` keeps a line whole: for the admin's own configuration
# (a dialplan's numbers in a validation error), which nobody could fix if it were masked.
NOT_CALLER_DATA = {"caller_data": False}


# What every LogRecord has; anything else on a record is an extra field (the CallSid...).
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class MaskingFilter(logging.Filter):
    """A handler filter: each record's message and extra fields go through `mask` before they
    are written. Add it after the filters that set fields (the CallSid's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, mask(value))
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed log call: logging reports it itself
        if getattr(record, "caller_data", True) is False:
            # The admin's own configuration: whole, but still on one line.
            safe = _CONTROL.sub(_escaped, message)
        else:
            safe = mask(message)
        if safe != message:
            record.msg, record.args = safe, None
        return True
