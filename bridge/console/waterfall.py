"""A turn's latency as a waterfall: one bar per stage, on one time axis, as inline SVG.

TurnLatency's figures are "first reached at, in ms after the end-of-turn decision", except
endpointing, which runs *before* that decision, and stt, which starts at it. So each stage's
bar runs from where the stage before it ended to where it was reached.
"""

from __future__ import annotations

from bridge.console.html import esc
from bridge.records import TurnLatency

STAGES = (
    ("endpointing", "Endpointing"),
    ("stt", "Speech to text"),
    ("agent", "Agent (first words)"),
    ("tts_first_audio", "TTS first audio"),
    ("first_media", "First media sent"),
)
WIDTH, LABEL_W, ROW_H, BAR_H = 640, 170, 22, 14


def stage_bars(latency: TurnLatency) -> list[tuple[str, str, float, float]]:
    """(field, label, start_ms, end_ms) for every stage reached, on the decision's clock."""
    bars = []
    previous_end = 0.0
    for name, label in STAGES:
        value = getattr(latency, name)
        if value is None:
            continue
        if name == "endpointing":
            bars.append((name, label, -value, 0.0))
            continue
        start = min(previous_end, value)
        bars.append((name, label, start, value))
        previous_end = max(previous_end, value)
    return bars


def waterfall_svg(latency: TurnLatency, turn_index: int) -> str:
    """The SVG, or a note when the turn measured nothing (e.g. a key press transfer)."""
    bars = stage_bars(latency)
    if not bars:
        return '<p class="muted">No timings for this turn.</p>'
    low = min(start for _, _, start, _ in bars)
    high = max(end for _, _, _, end in bars)
    span = (high - low) or 1.0
    scale = (WIDTH - LABEL_W - 60) / span
    title = "; ".join(f"{label} {end - start:.0f} ms" for _, label, start, end in bars)
    rows = []
    for row, (name, label, start, end) in enumerate(bars):
        y = row * ROW_H
        x = LABEL_W + (start - low) * scale
        width = max(2.0, (end - start) * scale)
        rows.append(
            f'<text x="0" y="{y + BAR_H - 2}" class="wf-label">{esc(label)}</text>'
            f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_H}" '
            f'class="wf-bar wf-{name}"/>'
            f'<text x="{x + width + 4:.1f}" y="{y + BAR_H - 2}" class="wf-ms">'
            f"{end - start:.0f} ms</text>"
        )
    zero = LABEL_W + (0 - low) * scale
    height = len(bars) * ROW_H
    rows.append(f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}" class="wf-zero"/>')
    title_id = f"wf-title-{turn_index}"
    return (
        f'<svg class="waterfall" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{title_id}" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{title_id}">Turn {turn_index} latency: {esc(title)}</title>'
        f"{''.join(rows)}</svg>"
    )
