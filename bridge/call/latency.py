"""Per-turn stopwatch: the first time each stage is reached, in ms from the end of the turn."""

from __future__ import annotations

import time

from bridge.records import TurnLatency


class TurnClock:
    def __init__(self, endpointing_ms: float | None = None) -> None:
        self._start = time.perf_counter()
        self.latency = TurnLatency(endpointing=endpointing_ms)

    def reached(self, stage: str) -> None:
        """Record `stage` (a TurnLatency field) the first time only."""
        if getattr(self.latency, stage) is None:
            setattr(self.latency, stage, round((time.perf_counter() - self._start) * 1000, 1))

    def took(self, stage: str, started: float) -> None:
        """Record how long `stage` took since `started` (a perf_counter reading)."""
        setattr(self.latency, stage, round((time.perf_counter() - started) * 1000, 1))
