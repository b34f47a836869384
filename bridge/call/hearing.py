"""What the caller said in a turn: the transcript started when they fell silent, or a new one.

A recogniser that fails, or has no words `stt_timeout_ms` after the caller stopped speaking
(when transcription started, speculatively), is not silence on the line: the turn becomes
the dialplan's `not_heard` phrase ("Sorry, I didn't catch that."), said as it is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from bridge.audio.phone import PHONE_RATE
from bridge.call.latency import TurnClock
from bridge.call.turns import PendingTurn
from bridge.dialplan.models import CallSettings
from bridge.speech.base import SpeechToText

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Said:
    text: str
    confidence: float = 1.0
    language: str = ""
    scripted: bool = False  # a phrase to say as it is (the caller was not heard)


async def hear(
    turn: PendingTurn, stt: SpeechToText, settings: CallSettings, clock: TurnClock
) -> Said:
    """The words of a spoken turn (empty when there were none)."""
    started = time.perf_counter()
    try:
        deadline = turn.waiting_since + settings.stt_timeout_ms / 1000
        async with asyncio.timeout_at(deadline if settings.stt_timeout_ms else None):
            transcript = await (turn.transcript or stt.transcribe(turn.audio, PHONE_RATE))
        said = Said(transcript.text, transcript.confidence, transcript.language)
    except TimeoutError:
        log.error("no words %d ms after the caller spoke: asked again", settings.stt_timeout_ms)
        said = Said(settings.not_heard, scripted=True)
    except Exception:
        log.exception("speech recognition failed: the caller is asked again")
        said = Said(settings.not_heard, scripted=True)
    # With a speculative transcript, only the wait left after the turn ended.
    clock.took("stt", started)
    return said
