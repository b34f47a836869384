"""A small price table, to put an estimated cost on every turn (US dollars per million tokens)."""

from __future__ import annotations

# (model name prefix, input price, output price); the longest matching prefix wins.
_PRICES: tuple[tuple[str, float, float], ...] = (
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-5-nano", 0.05, 0.40),
    ("gpt-5-mini", 0.25, 2.00),
    ("gpt-5", 1.25, 10.00),
    ("claude-3-haiku", 0.25, 1.25),
    ("claude-3-5-haiku", 0.80, 4.00),
    ("claude-haiku-4", 1.00, 5.00),
    ("claude-3-5-sonnet", 3.00, 15.00),
    ("claude-3-7-sonnet", 3.00, 15.00),
    ("claude-sonnet-4", 3.00, 15.00),
    ("claude-opus-4", 15.00, 75.00),
)


def estimate_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """Dollars for these tokens; 0.0 for a model not in the table (a local server)."""
    matches = [price for price in _PRICES if model.startswith(price[0])]
    if not matches:
        return 0.0
    _, input_price, output_price = max(matches, key=lambda price: len(price[0]))
    return (prompt_tokens * input_price + completion_tokens * output_price) / 1_000_000
