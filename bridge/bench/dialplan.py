"""The dialplan a benchmarked bridge serves: a short greeting and the bench's silence window."""

from __future__ import annotations

from pathlib import Path

BENCH_GREETING = "Hello."
BENCH_FROM = "+15555550199"


def write_bench_dialplan(directory: Path, silence_ms: int, realtime: bool = False) -> Path:
    """Write `bench.yaml` (the default line) into `directory`; returns the directory.

    With `realtime`, the line answers with `agent.mode: realtime` (the stand-in's server VAD
    on the same silence window). The line can place calls too (`outbound:`, for the dialer's
    bench)."""
    directory.mkdir(parents=True, exist_ok=True)
    agent = (
        f"agent:\n  mode: realtime\n  realtime:\n    silence_ms: {silence_ms}\n" if realtime else ""
    )
    (directory / "bench.yaml").write_text(
        "name: bench\n"
        "default: true\n"
        "business_name: Bench Line\n"
        "business_info: Open nine to five, Monday to Friday.\n"
        f"greeting: {BENCH_GREETING}\n"
        "turns:\n"
        f"  silence_ms: {silence_ms}\n"
        "outbound:\n"
        f"  from_number: '{BENCH_FROM}'\n"
        f"  opening_line: {BENCH_GREETING}\n"
        "  purpose: A benchmark of the dialer.\n" + agent,
        encoding="utf-8",
    )
    return directory
