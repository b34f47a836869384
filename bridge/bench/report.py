"""What `bridge bench` reports: pydantic models (for --json) and their text form."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel

from bridge.bench.hostile import HostileReport
from bridge.observability.lag import LagSummary
from bridge.speech.pool import PoolStats

MB = 1024 * 1024


class Percentiles(BaseModel):
    count: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None

    @classmethod
    def of(cls, values: list[float]) -> Percentiles:
        if not values:
            return cls(count=0, p50=None, p95=None, p99=None, max=None)
        ordered = sorted(values)

        def at(fraction: float) -> float:
            return round(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))], 1)

        return cls(count=len(ordered), p50=at(0.5), p95=at(0.95), p99=at(0.99), max=ordered[-1])

    def text(self) -> str:
        if not self.count:
            return "none measured"
        return (
            f"p50 {self.p50} / p95 {self.p95} / p99 {self.p99} / max {self.max} ms (n={self.count})"
        )


class LevelReport(BaseModel):
    """One step of the run: `calls` callers at once for `duration_s`."""

    calls: int
    duration_s: float
    turn_ms: Percentiles  # end of caller audio -> first agent media
    added_ms: Percentiles  # the same, beyond the silence window
    barge_in_ms: Percentiles  # caller speech onset -> clear received
    server_cpu_s_per_call_s: float | None  # CPU seconds per second of one call's media
    server_core_use: float | None  # CPU seconds per wall second in the steady window
    calls_per_core: float | None  # 1 / server_cpu_s_per_call_s
    rss_per_call_bytes: float | None
    frame_lag: LagSummary | None
    loop_lag: LagSummary | None
    realtime: bool | None  # no late frames and the loop keeps up
    generator_late_ticks: int  # load generator ticks 20 ms or more late (its own health)
    generator_core_use: float
    frames_sent: int
    media_received: int
    calls_completed: int
    errors: dict[str, int]
    speech_pool: PoolStats | None
    hostile: HostileReport | None = None  # the flood beside the calls, if any
    # Realtime mode only (see bridge/bench/realtime.py).
    relay_ms: Percentiles | None = None  # stand-in audio delta sent -> media received
    # The server's own part of it: delta read off the model's socket -> media written.
    server_relay: LagSummary | None = None
    clear_after_speech_started_ms: Percentiles | None = None
    truncate_error_ms: Percentiles | None = None  # |audio_end_ms - audio actually played|
    # Messages the bridge sent the stand-in per call-second, in the steady window.
    model_messages_per_call_s: float | None = None


class SequentialReport(BaseModel):
    """Memory over many calls one after another (`concurrency` at a time)."""

    calls: int
    concurrency: int
    rss_mb: list[tuple[int, float]]  # (calls finished, server RSS in MB)
    drift_pct: float | None  # last sample against the first
    errors: dict[str, int]


class BenchReport(BaseModel):
    providers: str
    agent_mode: str = "cascaded"  # or "realtime": answered by the Realtime API stand-in
    server: str
    silence_ms: int
    idle_rss_mb: float | None
    levels: list[LevelReport] = []
    sequential: SequentialReport | None = None
    plot: str | None = None


def count_errors(errors: list[str]) -> dict[str, int]:
    return dict(Counter(errors))


def render(report: BenchReport) -> str:
    lines = [
        f"bridge bench: {report.agent_mode}, {report.providers} providers, "
        f"server {report.server}, "
        f"silence window {report.silence_ms} ms"
    ]
    if report.idle_rss_mb is not None:
        lines.append(f"server RSS idle: {report.idle_rss_mb:.1f} MB")
    for level in report.levels:
        lines += ["", f"== {level.calls} concurrent calls, {level.duration_s:.0f} s each"]
        lines.append(f"  turn latency (end of speech -> first media): {level.turn_ms.text()}")
        lines.append(f"  bridge-added latency (beyond the window):   {level.added_ms.text()}")
        lines.append(f"  barge-in (speech onset -> clear):           {level.barge_in_ms.text()}")
        if level.relay_ms is not None:
            lines.append(f"  realtime relay (stand-in delta -> media):   {level.relay_ms.text()}")
        if level.server_relay is not None:
            relay = level.server_relay
            lines.append(
                f"  ... of which in the bridge (read -> write): p50 <= {relay.p50_ms} / p99 <= "
                f"{relay.p99_ms} / max {relay.max_ms} ms (n={relay.count})"
            )
        if level.clear_after_speech_started_ms is not None:
            lines.append(
                "  realtime clear (speech_started -> clear):   "
                + level.clear_after_speech_started_ms.text()
            )
        if level.truncate_error_ms is not None:
            lines.append(
                "  truncate audio_end_ms vs audio played:      " + level.truncate_error_ms.text()
            )
        if level.model_messages_per_call_s is not None:
            lines.append(
                f"  messages to the model: {level.model_messages_per_call_s:.1f} per call-second"
            )
        if level.server_cpu_s_per_call_s is not None:
            lines.append(
                f"  server CPU: {level.server_cpu_s_per_call_s * 1000:.2f} ms per call-second "
                f"({level.server_core_use or 0:.0%} of a core) -> {level.calls_per_core:.0f} "
                "calls per core"
            )
        if level.rss_per_call_bytes is not None:
            lines.append(f"  memory per active call: {level.rss_per_call_bytes / MB:.3f} MB")
        if level.frame_lag is not None and level.loop_lag is not None:
            lines.append(
                f"  frame lag: {level.frame_lag.late} of {level.frame_lag.count} frames late "
                f"(>= 20 ms), p99 <= {level.frame_lag.p99_ms} ms, max {level.frame_lag.max_ms} ms;"
                f" loop lag p99 <= {level.loop_lag.p99_ms} ms"
            )
            lines.append(f"  kept real time: {'yes' if level.realtime else 'NO'}")
        if level.speech_pool is not None:
            pool = level.speech_pool
            lines.append(
                f"  speech pool: {pool.workers} workers, {pool.completed} jobs, wait p50/p95 "
                f"{pool.wait_p50_ms}/{pool.wait_p95_ms} ms, run p50/p95 {pool.run_p50_ms}/"
                f"{pool.run_p95_ms} ms, rejected {pool.rejected}, cancelled {pool.cancelled}"
            )
        lines.append(
            f"  frames sent {level.frames_sent}, agent media received {level.media_received}, "
            f"calls completed {level.calls_completed}/{level.calls}; generator late ticks "
            f"{level.generator_late_ticks}, generator {level.generator_core_use:.0%} of a core"
        )
        if level.hostile is not None:
            hostile = level.hostile
            lines.append(
                f"  beside them, from {hostile.source}: {hostile.idle_sockets} media sockets that "
                f"never send start ({hostile.sockets_opened} opened, {hostile.sockets_refused} "
                f"refused at the handshake, {hostile.sockets_closed} closed by the bridge) and "
                f"{hostile.slow_clients} "
                f"slow clients ({hostile.slow_opened} opened, {hostile.slow_closed} closed by the "
                f"deadline); {hostile.failures} other connect failures; "
                f"{hostile.attempts} connections tried ({hostile.attempts_per_s:.0f}/s)"
            )
        if level.errors:
            lines.append(f"  errors: {level.errors}")
    if report.sequential is not None:
        seq = report.sequential
        lines += ["", f"== {seq.calls} sequential calls ({seq.concurrency} at a time)"]
        lines.append("  server RSS: " + ", ".join(f"{n}: {mb:.1f} MB" for n, mb in seq.rss_mb))
        if seq.drift_pct is not None:
            lines.append(f"  drift from the first sample to the last: {seq.drift_pct:+.2f} %")
        if seq.errors:
            lines.append(f"  errors: {seq.errors}")
    if report.plot:
        lines += ["", f"plot: {report.plot}"]
    return "\n".join(lines)
