"""The bench's PNG: latency distributions, and CPU and latency against concurrent calls."""

from __future__ import annotations

from pathlib import Path

from bridge.bench.report import BenchReport
from bridge.bench.runner import Samples


def write_plot(path: Path, report: BenchReport, samples: list[Samples]) -> Path:
    """Needs matplotlib (`pip install '.[bench]'`); raises ImportError without it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (spread, scaling) = plt.subplots(1, 2, figsize=(12, 4.5))
    for level in samples:
        if level.turn_ms:
            spread.hist(level.turn_ms, bins=40, histtype="step", label=f"turn, {level.calls} calls")
        if level.barge_ms:
            spread.hist(level.barge_ms, bins=40, histtype="step", label=f"barge-in, {level.calls}")
    spread.set_xlabel("latency (ms)")
    spread.set_ylabel("events")
    spread.set_title("Latency distribution")
    if any(level.turn_ms or level.barge_ms for level in samples):
        spread.legend(fontsize="small")

    calls = [level.calls for level in report.levels]
    cpu = [(level.server_core_use or 0.0) * 100 for level in report.levels]
    p95 = [level.turn_ms.p95 or 0.0 for level in report.levels]
    scaling.plot(calls, cpu, "o-", color="tab:red", label="server CPU (% of a core)")
    scaling.set_xlabel("concurrent calls")
    scaling.set_ylabel("server CPU (% of a core)", color="tab:red")
    latency = scaling.twinx()
    latency.plot(calls, p95, "s--", color="tab:blue", label="turn latency p95")
    latency.set_ylabel("turn latency p95 (ms)", color="tab:blue")
    scaling.set_title("Load")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
