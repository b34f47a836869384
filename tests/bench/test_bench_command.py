"""`bridge bench` end to end: a spawned bridge with instant providers, three calls, a report."""

from __future__ import annotations

import os
from pathlib import Path

from tests.bench.run_bench import bench_report


def test_bench_reports_latency_cpu_memory_and_writes_a_plot(tmp_path: Path) -> None:
    plot = tmp_path / "bench.png"
    report = bench_report(
        tmp_path,
        "--calls", "3", "--duration", "3", "--ramp", "0.3", "--speed", "4",
        "--barge-every", "2", "--sequential", "4", "--concurrency", "2", "--plot", str(plot),
    )  # fmt: skip

    (level,) = report["levels"]
    assert level["calls"] == 3 and level["calls_completed"] == 3
    assert level["errors"] == {}
    assert level["turn_ms"]["count"] >= 3 and level["added_ms"]["count"] >= 3
    assert level["barge_in_ms"]["count"] >= 1  # every second turn talked over the reply
    assert level["server_cpu_s_per_call_s"] > 0 and level["calls_per_core"] > 0
    assert level["rss_per_call_bytes"] is not None
    assert level["frame_lag"]["count"] > 0 and level["loop_lag"]["count"] > 0
    assert level["speech_pool"]["workers"] >= 1
    assert level["frames_sent"] > 0 and level["media_received"] > 0

    sequential = report["sequential"]
    assert sequential["calls"] == 4 and sequential["errors"] == {}
    assert len(sequential["rss_mb"]) >= 2

    assert report["plot"] == str(plot)
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_bench_in_realtime_mode_times_the_relay_the_clear_and_the_truncate(
    tmp_path: Path,
) -> None:
    report = bench_report(
        tmp_path,
        "--realtime", "--calls", "2", "--duration", "8", "--ramp", "0.3", "--speed", "2",
        "--barge-every", "2", "--plot", "", "--stand-in-chunk-ms", "500",
    )  # fmt: skip
    assert report["agent_mode"] == "realtime"
    (level,) = report["levels"]
    assert level["calls_completed"] == 2 and level["errors"] == {}
    assert level["relay_ms"]["count"] > 0
    assert level["server_relay"]["count"] == level["relay_ms"]["count"]
    assert level["clear_after_speech_started_ms"]["count"] >= 1
    assert level["truncate_error_ms"]["count"] == level["clear_after_speech_started_ms"]["count"]


def test_bench_floods_idle_media_sockets_and_slow_clients_beside_the_calls(
    tmp_path: Path,
) -> None:
    # The spawned bridge inherits the environment: short deadlines, so the flood sees them.
    env = {**os.environ, "MEDIA_START_TIMEOUT_S": "1", "REQUEST_TIMEOUT_S": "1"}
    report = bench_report(
        tmp_path,
        "--calls", "2", "--duration", "4", "--ramp", "0.3", "--speed", "2",
        "--idle-sockets", "30", "--slow-clients", "30", "--plot", "", env=env,
    )  # fmt: skip
    (level,) = report["levels"]
    assert level["calls_completed"] == 2 and level["errors"] == {}
    hostile = level["hostile"]
    assert hostile["idle_sockets"] == 30 and hostile["slow_clients"] == 30
    assert hostile["sockets_opened"] >= 30 and hostile["slow_opened"] >= 30
    assert hostile["sockets_closed"] > 0 and hostile["slow_closed"] > 0  # the deadlines held
