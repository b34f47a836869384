"""`bridge bench --campaign`: one small campaign on a spawned bridge, its figures as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = "import sys; from bridge.cli import main; sys.exit(main(sys.argv[1:]))"


def test_the_dialer_bench_reports_calls_per_second_and_live_calls_against_the_caps(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [
            sys.executable, "-c", BENCH, "--env-file", os.devnull, "bench",
            "--campaign", "5", "--cap", "2", "--rate", "10", "--call-ms", "200",
            "--server-cpu", "", "--generator-cpu", "", "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert (report["placed"], report["dialled_twice"], report["outcomes"]) == (5, 0, {"human": 5})
    assert 1 <= report["peak_live"] <= 2
    assert 1 <= report["busiest_second"] <= 10
    assert report["calls_per_s"] > 0 and report["server_cpu_s"] > 0
    assert sum(second["placed"] for second in report["seconds"]) == 5
    assert max(second["live_max"] for second in report["seconds"]) >= 1
