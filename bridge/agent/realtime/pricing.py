"""What a speech-to-speech turn costs (US dollars per million tokens, audio dearer than text)."""

from __future__ import annotations

from bridge.agent.realtime.link import RealtimeUsage

# (model name prefix, text in, audio in, text out, audio out); the longest prefix wins.
_PRICES: tuple[tuple[str, float, float, float, float], ...] = (
    ("gpt-realtime-mini", 0.60, 10.00, 2.40, 20.00),
    ("gpt-realtime", 4.00, 32.00, 16.00, 64.00),
    ("gpt-4o-mini-realtime", 0.60, 10.00, 2.40, 20.00),
    ("gpt-4o-realtime", 5.00, 40.00, 20.00, 80.00),
)


def estimate_realtime_cost(model: str, usage: RealtimeUsage) -> float:
    """Dollars for these tokens; 0.0 for a model not in the table."""
    matches = [price for price in _PRICES if model.startswith(price[0])]
    if not matches:
        return 0.0
    _, text_in, audio_in, text_out, audio_out = max(matches, key=lambda price: len(price[0]))
    return (
        usage.input_text * text_in
        + usage.input_audio * audio_in
        + usage.output_text * text_out
        + usage.output_audio * audio_out
    ) / 1_000_000
