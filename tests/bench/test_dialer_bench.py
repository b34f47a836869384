"""`bridge bench --campaign`: one small campaign on a spawned bridge, its figures as JSON."""

from __future__ import annotations

from pathlib import Path

from tests.bench.run_bench import bench_report


def test_the_dialer_bench_reports_calls_per_second_and_live_calls_against_the_caps(
    tmp_path: Path,
) -> None:
    report = bench_report(
        tmp_path,
        "--campaign", "5", "--cap", "2", "--rate", "10", "--call-ms", "200",
    )  # fmt: skip
    assert (report["placed"], report["dialled_twice"], report["outcomes"]) == (5, 0, {"human": 5})
    assert 1 <= report["peak_live"] <= 2
    assert 1 <= report["busiest_second"] <= 10
    assert report["calls_per_s"] > 0 and report["server_cpu_s"] > 0
    assert sum(second["placed"] for second in report["seconds"]) == 5
    assert max(second["live_max"] for second in report["seconds"]) >= 1
