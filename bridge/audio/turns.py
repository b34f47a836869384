"""What the turn detector reports about the caller's speech, one event at a time.

Every event carries `at_ms`: the detector's own stream clock at the end of the frame that
produced it (frames pushed x 20 ms), so it holds at any replay speed. A turn always goes
SpeechStarted, then any number of SilenceStarted/SpeechResumed pairs, then exactly one of
TurnEnded or TurnDropped (a SilenceStarted comes first, unless a max-length cut ends the turn).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Speech confirmed: `onset_ms` of voiced frames in a row. This is the barge-in signal."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class SilenceStarted:
    """The first unvoiced frame after speech: the turn may be ending (speculate if you like)."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class SpeechResumed:
    """Speech confirmed again before the silence window closed: the turn goes on."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """A caller turn to transcribe.

    `audio` is mono PCM16 at 8 kHz: a pre-roll from before the onset, the speech, and a short
    tail of the silence after it. `duration_ms` is the speech alone, from the first voiced
    frame of the onset to the last voiced frame (pauses inside included). `silence_ms` is the
    pause that ended it (0 for a max-length cut): how long endpointing waited.
    """

    audio: bytes
    duration_ms: int
    reason: Literal["silence", "max_length"]
    at_ms: int
    silence_ms: int = 0


@dataclass(frozen=True, slots=True)
class TurnDropped:
    """Speech shorter than `min_utterance_ms` (a cough, a click): no turn."""

    duration_ms: int
    at_ms: int


TurnEvent = SpeechStarted | SilenceStarted | SpeechResumed | TurnEnded | TurnDropped
