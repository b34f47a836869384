"""What the agent says and listens for, per language: one table, not strings scattered about."""

from __future__ import annotations

import re

from bridge.agent.words import plain_words

# An agent question that these match asks for digits: the caller's next turn is heard in
# digits mode (call/digits_mode.py). Matched on plain words (no case, accents or punctuation).
_ASKS_FOR_DIGITS = re.compile(
    r"\b(order (number|id)|zip( code)?|postal code|account number|phone number|digits|"
    r"key (it |them )?in|numero de pedido|codigo postal|numero de cuenta|digitos|"
    r"marquelo|teclee)\b"
)


def asks_for_digits(agent_text: str) -> bool:
    """Whether the agent's words ask the caller for an order number, a ZIP or other digits."""
    return bool(_ASKS_FOR_DIGITS.search(plain_words(agent_text)))
