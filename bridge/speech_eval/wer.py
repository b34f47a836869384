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
    return f" {' '.join(_readings(match.group(0))[0])} "


def _readings(digits: str) -> list[list[str]]:
    """The ways a string of digits is said; the first is how it is read by default.

    A leading zero or a long string is read digit by digit; otherwise as a number, then digit
    by digit ("345": "three four five"), then in pairs ("5079": "fifty seventy nine").
    """
    one_by_one = [_ONES[int(d)] for d in digits]
    if (digits.startswith("0") and len(digits) > 1) or len(digits) > 6:
        return [one_by_one]
    readings = [number_words(int(digits)).split()]
    if len(digits) > 1:
        readings.append(one_by_one)
    pairs = [digits[i : i + 2] for i in range(0, len(digits), 2)]
    if len(digits) in (4, 6) and all(pair[0] != "0" for pair in pairs):
        readings.append([word for pair in pairs for word in number_words(int(pair)).split()])
    return readings


def _clean(text: str) -> str:
    text = text.lower().replace("-", " ")
    return re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 4,572 -> 4572


def _words(text: str) -> list[str]:
    text = re.sub(r"[^a-z' ]+", " ", text)
    words = [word.strip("'") for word in text.split()]
    return [_ABBREVIATIONS.get(word, word) for word in words if word]


def normalise(text: str) -> list[str]:
    """Lower-case words without punctuation, numbers spelled out."""
    return _words(re.sub(r"\d+", _digits_as_words, _clean(text)))


def _hypothesis_lattice(text: str) -> list[list[list[str]]]:
    """The words written, as a row of slots: a word is a slot with one reading, a number
    written in digits a slot with every way of saying it (see `_readings`)."""
    slots: list[list[list[str]]] = []
    for piece in re.split(r"(\d+)", _clean(text)):
        if piece.isdigit():
            slots.append(_readings(piece))
        else:
            slots.extend([[word]] for word in _words(piece))
    return slots


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
    """Levenshtein alignment of the normalised words, split by kind of error. A number the
    recogniser wrote in digits counts as whichever way of saying it is closest to what was
    said: "345" is a right hearing of "three four five", and "$55" of "five five" (and a
    zero of "oh")."""
    ref = normalise(reference)
    # The hypothesis as a graph of words: node 0 starts it, each word is a node, and the
    # readings of one slot run side by side from the ends of the slot before.
    words: list[str] = [""]
    before: list[list[int]] = [[]]
    ends = [0]
    for slot in _hypothesis_lattice(hypothesis):
        slot_ends = []
        for reading in slot:
            previous = ends
            for word in reading:
                words.append(word)
                before.append(previous)
                previous = [len(words) - 1]
            slot_ends.extend(previous)
        ends = slot_ends
    # cost[v] = (edits, subs, dels, ins) to turn ref[:i] into a path ending at node v
    row = [(0, 0, 0, 0)]
    for v in range(1, len(words)):
        row.append(min(_plus(row[u], insertion=True) for u in before[v]))
    for i in range(1, len(ref) + 1):
        new = [(i, 0, i, 0)]
        for v in range(1, len(words)):
            same = _same(ref[i - 1], words[v])
            options = [_plus(row[v], deletion=True)]
            for u in before[v]:
                options.append(_plus(row[u], substitution=not same))
                options.append(_plus(new[u], insertion=True))
            new.append(min(options))
        row = new
    _, subs, dels, ins = min(row[v] for v in ends)
    return Errors(subs, dels, ins, len(ref))


def _same(said: str, heard: str) -> bool:
    return said == heard or {said, heard} == {"oh", "zero"}


def _plus(
    cost: tuple[int, int, int, int],
    *,
    substitution: bool = False,
    deletion: bool = False,
    insertion: bool = False,
) -> tuple[int, int, int, int]:
    edits, subs, dels, ins = cost
    return (
        edits + substitution + deletion + insertion,
        subs + substitution,
        dels + deletion,
        ins + insertion,
    )


def wer(pairs: list[tuple[str, str]]) -> float:
    """Corpus WER: all edits over all reference words (not a mean of per-clip rates)."""
    errors = [word_errors(ref, hyp) for ref, hyp in pairs]
    words = sum(e.reference_words for e in errors)
    return sum(e.total for e in errors) / words if words else 0.0
