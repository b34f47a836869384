"""What a simulated caller does, step by step."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Say:
    """Say a line (synthesized by the local TTS) once the agent has finished talking.

    "[pause 1200ms]" in the text stops the caller that long mid-line.
    """

    text: str


@dataclass(frozen=True)
class PlayAudio:
    """Play a WAV file (any rate, converted) as the caller's next line."""

    path: Path


@dataclass(frozen=True)
class PressKeys:
    """Press DTMF keys, one every 200 ms."""

    digits: str


@dataclass(frozen=True)
class Interrupt:
    """Talk over the agent: start `text` this long into its next (or current) reply."""

    text: str
    after_ms: int = 600


@dataclass(frozen=True)
class Overlay:
    """A sound over the agent's reply to the line before it (the line then does not wait
    for that reply to end) that is not a turn to answer: a cough, line noise, babble or a
    backchannel ("mm-hmm"); then wait for the agent to finish.

    `sound` is "cough", "noise" or "babble", else words to say; `ms` is how long noise and
    babble last.
    """

    sound: str
    after_ms: int = 600
    ms: int = 1000


@dataclass(frozen=True)
class Quiet:
    """Say nothing for this long (once the agent has finished): a caller gone quiet."""

    ms: int


@dataclass(frozen=True)
class HangUp:
    """Hang up this long into the agent's next (or current) reply."""

    after_ms: int = 600


@dataclass(frozen=True)
class Voicemail:
    """An answering machine: its greeting then a beep, at once, over anything the agent says."""

    greeting: str = "Hi, you've reached Sam. Please leave a message after the tone."
    beep_ms: int = 500


Step = Say | PlayAudio | PressKeys | Interrupt | Overlay | Quiet | HangUp | Voicemail

DEMO_SCRIPT: list[Step] = [
    Say("Hi, I'd like to check on my order."),
    Say("It's order 4 5 7 2."),
    Say("Thanks. Can you put me through to the billing department?"),
]
