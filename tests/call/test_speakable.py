"""make_speakable: markdown gone, ids read digit by digit, money/times/dates spoken, idempotent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.call.speakable import make_speakable

CASES = [
    ("**Great!** Your order is *on its way*.", "Great! Your order is on its way."),
    ("## Options\n- Sales\n- Support\n1. Billing", "Options\nSales\nSupport\nBilling"),
    ("See [our site](https://x.example) or run `status`.", "See our site or run status."),
    ("Your order #4572 has shipped.", "Your order 4 5 7 2 has shipped."),
    ("Order number is A-4572.", "Order number is A 4 5 7 2."),
    ("Tracking 1Z999AA1.", "Tracking 1 Z 9 9 9 A A 1."),
    ("Reference 123456789 is open.", "Reference 1 2 3 4 5 6 7 8 9 is open."),
    ("Call 555-123-4567 now.", "Call 5 5 5, 1 2 3, 4 5 6 7 now."),
    (
        "It costs $3.50 or $1,200 or $1.",
        "It costs 3 dollars and 50 cents or 1,200 dollars or 1 dollar.",
    ),
    ("Only $0.99 today.", "Only 99 cents today."),
    ("We open at 9:00 and close at 5:30 PM.", "We open at 9 o'clock and close at 5 30 P M."),
    ("Lunch is at 12:05.", "Lunch is at 12 oh 5."),
    ("It arrives 2024-03-02.", "It arrives March 2nd, 2024."),
    ("Due 12/21/2025.", "Due December 21st, 2025."),
    (
        "We sold 2 pizzas, 88,310 in total, 40% off & more.",
        "We sold 2 pizzas, 88,310 in total, 40 percent off and more.",
    ),
    ("Your order_id field is fine.", "Your order_id field is fine."),
]


@pytest.mark.parametrize(("text", "spoken"), CASES)
def test_reply_text_becomes_speakable(text: str, spoken: str) -> None:
    assert make_speakable(text) == spoken


@pytest.mark.parametrize(("text", "spoken"), CASES)
def test_speakable_text_is_left_alone(text: str, spoken: str) -> None:
    assert make_speakable(spoken) == spoken


@given(st.text(alphabet="Ord #*_-`[]()$.,:/ 0123456789APMorderID\n", max_size=80))
def test_make_speakable_is_idempotent(text: str) -> None:
    once = make_speakable(text)
    assert make_speakable(once) == once
