"""`bridge bench` run as a user runs it: a child process (it spawns its own bridge), no
CPU pinning (the test machine's cores are shared), its JSON report parsed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = "import sys; from bridge.cli import main; sys.exit(main(sys.argv[1:]))"


def bench_report(cwd: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable, "-c", BENCH, "--env-file", os.devnull, "bench", *args,
            "--server-cpu", "", "--generator-cpu", "", "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report
