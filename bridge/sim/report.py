"""The simulator's report of one call (what `bridge call --json` prints)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bridge.records import TurnRecord


class CallerLine(BaseModel):
    """A line the simulated caller said, as the caller's side measured it."""

    kind: str  # say | audio | keys | interrupt
    text: str
    # End of the caller's audio -> first agent `media` after it, on the caller's clock.
    reply_ms: float | None = None
    # The longest the caller then heard nothing, up to the end of the agent's reply (a filler
    # then seconds of silence is dead air too), on the stream's clock.
    silence_ms: int | None = None
    # Caller speech onset in the stream -> `clear` received (interruptions only; 0 for an
    # overlay that was cut in on).
    clear_ms: float | None = None
    # A line: agent audio (or a clear) came before its last word, so its turn ended early.
    answered_early: bool = False
    # An overlay that cut the agent: did agent audio come back without a caller turn?
    resumed: bool | None = None


class CallReport(BaseModel):
    call_sid: str
    status: str = ""
    outcome: str = ""  # a call the bridge placed: what came of it (the record's outcome)
    end_reason: str = ""
    turns: list[TurnRecord] = Field(default_factory=list)
    twilio_actions: list[dict[str, Any]] = Field(default_factory=list)
    recording: str = ""
    caller_lines: list[CallerLine] = Field(default_factory=list)
    clears: int = 0
    twiml: str = ""
