"""Guards on what a recogniser returns: words it invented, loops it fell into, and how sure it is.

Whisper, given noise or a clipped turn, can hallucinate ("Thank you.", "Bye!") or repeat one
phrase dozens of times. Each decoded segment carries the evidence: the average log-probability
of its tokens, the probability that there was no speech at all, and how well its text
compresses (a loop compresses far better than speech).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

# Whisper's own thresholds (openai/whisper transcribe.py): a segment below this average
# log-probability and above this no-speech probability is silence, not words.
NO_SPEECH_PROB = 0.6
LOW_LOG_PROB = -1.0
# Text that gzip shrinks more than this is looping.
MAX_COMPRESSION_RATIO = 2.4
# A phrase said this many times in a row is a loop; a single word needs more, since a caller
# may well say "five five five five" in an order number.
LOOP_REPEATS = 4
WORD_LOOP_REPEATS = 7


@dataclass(frozen=True)
class Segment:
    """The part of a decoded segment the guards look at."""

    text: str
    avg_logprob: float
    no_speech_prob: float
    tokens: int


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def trim_loops(text: str, max_phrase: int = 8) -> str:
    """The text with any phrase said `LOOP_REPEATS` times in a row (a word, `WORD_LOOP_REPEATS`
    times) kept once."""
    words = text.split()
    plain = [word.strip(",.!?;:").lower() for word in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        step = 1
        for size in range(1, min(max_phrase, len(words) - i) + 1):
            repeats = 1
            while plain[i + repeats * size : i + (repeats + 1) * size] == plain[i : i + size]:
                repeats += 1
            if repeats >= (WORD_LOOP_REPEATS if size == 1 else LOOP_REPEATS):
                out.extend(words[i : i + size])
                step = repeats * size
                break
        if step == 1:
            out.append(words[i])
        i += step
    return " ".join(out)


def judge(segments: list[Segment]) -> tuple[str, float]:
    """(the text worth keeping, confidence 0-1) from the decoded segments.

    Silent segments are dropped, loops trimmed; confidence is the token-weighted mean
    probability per token, and a loop or a dropped segment lowers it below one half (well
    under `UNSURE_BELOW`).
    """
    kept = [
        s
        for s in segments
        if not (s.no_speech_prob > NO_SPEECH_PROB and s.avg_logprob < LOW_LOG_PROB)
    ]
    text = " ".join(" ".join(s.text for s in kept).split())
    if not text:
        return "", 1.0 if not segments else 0.0
    tokens = sum(max(s.tokens, 1) for s in kept)
    mean_logprob = sum(s.avg_logprob * max(s.tokens, 1) for s in kept) / tokens
    confidence = math.exp(min(0.0, mean_logprob))
    trimmed = trim_loops(text)
    if trimmed != text or compression_ratio(text) > MAX_COMPRESSION_RATIO:
        confidence = min(confidence, 0.49)
    if len(kept) < len(segments):
        confidence = min(confidence, 0.49)
    return trimmed, round(confidence, 3)
