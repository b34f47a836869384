"""Keeps customers' numbers out of the logs: phone numbers, order ids and card-like numbers.

Each is cut to its last few characters, enough to tell two apart while debugging and too
little to look a customer up. Call SIDs (`CA` + 32 hex) are ids of ours and stay whole.
"""

from __future__ import annotations

import logging
import re

# 13 to 19 digits, optionally grouped by spaces or dashes: a payment card's shape.
_CARD = re.compile(r"(?<![\w+])\d(?:[ -]?\d){12,18}(?!\w)")
# E.164 (+15035550142) and North American forms: (503) 555-0142, 503-555-0142, 503.555.0142.
_PHONE = re.compile(
    r"(?<![\w+])\+\d{7,15}(?!\w)|(?<!\w)(?:\(\d{3}\)\s?|\d{3}[-. ])\d{3}[-. ]\d{4}(?!\w)"
)
# "order 4572", "order #4572", "order number 4572", "order_id': '4572", "order_id=4572", and
# a verification answer ("verification': '97205", "zip 97205").
_ORDER = re.compile(
    r"(?P<lead>\b(?:order(?:[_ ]?(?:id|number|no))?|verification|zip(?:[_ ]?code)?)"
    r"['\"]?\s*[:=]?\s*['\"]?(?:#\s*)?)"
    r"(?P<id>\d[\w-]{2,})",
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


def mask(text: str) -> str:
    """`text` with phone numbers, order ids and card-like numbers masked."""
    text = _CARD.sub(lambda found: _keep_last(found.group(), 4), text)
    text = _PHONE.sub(lambda found: _keep_last(found.group(), 2), text)
    return _ORDER.sub(lambda found: found["lead"] + _keep_last(found["id"], 2), text)


# `log.error(..., extra=NOT_CALLER_DATA)` keeps a line whole: for the admin's own configuration
# (a dialplan's numbers in a validation error), which nobody could fix if it were masked.
NOT_CALLER_DATA = {"caller_data": False}


class MaskingFilter(logging.Filter):
    """A handler filter that rewrites each record's message with `mask` before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "caller_data", True) is False:
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed log call: logging reports it itself
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
