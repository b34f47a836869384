"""Word error rate between what was said and what the recogniser wrote.

Both sides are normalised first, so "10 meters" and "ten meters", or "Mr." and "mister",
count as the same words: the score is about hearing, not about spelling conventions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint"}


def number_words(n: int) -> str:
    """ "4572" -> "four thousand five hundred seventy two" (below a million)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return f"{_ONES[n // 100]} hundred" + (f" {number_words(rest)}" if rest else "")
    if n < 1_000_000:
        rest = n % 1000
        return f"{number_words(n // 1000)} thousand" + (f" {number_words(rest)}" if rest else "")
    return " ".join(_ONES[int(d)] for d in str(n))


def _digits_as_words(match: re.Match[str]) -> str:
    token = match.group(0)
    # A leading zero or a long string is read digit by digit; otherwise as a number.
    if (token.startswith("0") and len(token) > 1) or len(token) > 6:
        return " ".join(_ONES[int(d)] for d in token)
    return f" {number_words(int(token))} "


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation, numbers spelled out."""
    text = text.lower().replace("-", " ")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 4,572 -> 4572
    text = re.sub(r"\d+", _digits_as_words, text)
    text = re.sub(r"[^a-z' ]+", " ", text)
    words = [word.strip("'") for word in text.split()]
    return [_ABBREVIATIONS.get(word, word) for word in words if word]


@dataclass(frozen=True)
class Errors:
    """Edit counts of one transcript against its reference."""

    substitutions: int
    deletions: int
    insertions: int
    reference_words: int

    @property
    def total(self) -> int:
        return self.substitutions + self.deletions + self.insertions


def word_errors(reference: str, hypothesis: str) -> Errors:
    """Levenshtein alignment of the normalised words, split by kind of error."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    # cost[j] = (edits, subs, dels, ins) to turn ref[:i] into hyp[:j]
    row = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i in range(1, len(ref) + 1):
        new = [(i, 0, i, 0)]
        for j in range(1, len(hyp) + 1):
            same = ref[i - 1] == hyp[j - 1]
            diag = row[j - 1]
            options = [
                (diag[0] + (not same), diag[1] + (not same), diag[2], diag[3]),
                (row[j][0] + 1, row[j][1], row[j][2] + 1, row[j][3]),
                (new[j - 1][0] + 1, new[j - 1][1], new[j - 1][2], new[j - 1][3] + 1),
            ]
            new.append(min(options))
        row = new
    _, subs, dels, ins = row[-1]
    return Errors(subs, dels, ins, len(ref))


def wer(pairs: list[tuple[str, str]]) -> float:
    """Corpus WER: all edits over all reference words (not a mean of per-clip rates)."""
    errors = [word_errors(ref, hyp) for ref, hyp in pairs]
    words = sum(e.reference_words for e in errors)
    return sum(e.total for e in errors) / words if words else 0.0
