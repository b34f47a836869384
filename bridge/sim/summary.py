"""Figures over several simulated calls: reply latency and transcription accuracy."""

from __future__ import annotations

import re
import statistics

from pydantic import BaseModel

from bridge.sim.report import CallReport


class CallsSummary(BaseModel):
    calls: int
    turns: int
    # End of the caller's audio -> first agent `media`, as the caller's side saw it.
    reply_ms_p50: float | None
    reply_ms_max: float | None
    # The bridge's own split of a turn (ms from the end-of-turn decision), medians.
    endpointing_ms_p50: float | None
    stt_ms_p50: float | None
    agent_first_words_ms_p50: float | None
    agent_done_ms_p50: float | None
    first_media_ms_p50: float | None
    lines_said: int
    transcribed_word_for_word: int
    transcribed_ignoring_digit_spacing: int
    # (said, transcribed) for the lines that differ even ignoring digit spacing.
    misheard: list[tuple[str, str]]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def _digits_joined(text: str) -> str:
    return "".join(words(re.sub(r"(?<=\d)[\s,.-]+(?=\d)", "", text)))


def summarize(reports: list[CallReport]) -> CallsSummary:
    replies = [
        line.reply_ms for r in reports for line in r.caller_lines if line.reply_ms is not None
    ]
    turns = [turn for r in reports for turn in r.turns if turn.source == "speech"]
    said = [line.text for r in reports for line in r.caller_lines if line.kind == "say"]
    heard = [turn.caller for turn in turns]
    pairs = list(zip(said, heard, strict=False))

    def median(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return round(statistics.median(present), 1) if present else None

    return CallsSummary(
        calls=len(reports),
        turns=len(turns),
        reply_ms_p50=median(list(replies)),
        reply_ms_max=max(replies) if replies else None,
        endpointing_ms_p50=median([t.latency_ms.endpointing for t in turns]),
        stt_ms_p50=median([t.latency_ms.stt for t in turns]),
        agent_first_words_ms_p50=median([t.latency_ms.agent for t in turns]),
        agent_done_ms_p50=median([t.latency_ms.agent_done for t in turns]),
        first_media_ms_p50=median([t.latency_ms.first_media for t in turns]),
        lines_said=len(said),
        transcribed_word_for_word=sum(words(a) == words(b) for a, b in pairs),
        transcribed_ignoring_digit_spacing=sum(
            _digits_joined(a) == _digits_joined(b) for a, b in pairs
        ),
        misheard=[(a, b) for a, b in pairs if _digits_joined(a) != _digits_joined(b)],
    )
