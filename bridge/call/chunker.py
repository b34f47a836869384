"""Cut streamed reply text into pieces a TTS can speak while the rest is still coming.

A piece ends at a sentence boundary. The first piece may also end at a clause boundary
(comma, semicolon, colon, dash) once it is long enough, so the first audio starts early; a
long run-on sentence is cut at its last clause boundary, or at a space as a last resort.
A full stop only ends a sentence when whitespace follows it, so "4.5", "$3.50", "A1.B2"
and "example.com" stay whole; known abbreviations and initials never end one.
"""

from __future__ import annotations

import re

# Never the end of a sentence ("Dr. Smith", "e.g. this").
_ALWAYS_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st sr jr mt ft vs e.g i.e approx no nos dept apt ave blvd est".split()
)
# End a sentence only when a capitalised word follows ("at 5 p.m. Then" vs "5 p.m. tomorrow").
_MAYBE_ABBREVIATIONS = frozenset("etc a.m p.m inc ltd co corp".split())

_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n+")
_CLAUSE_END = re.compile(r"(?:[,;:]|\s[-–—])[\"'”’)\]]*(?=\s)")
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_HAS_WORDS = re.compile(r"\w")


class SentenceChunker:
    """Feed reply deltas in with `push`, get speakable pieces out; `flush` at the end."""

    def __init__(
        self,
        first_piece_chars: int = 40,
        max_piece_chars: int = 160,
        min_clause_chars: int = 12,
    ) -> None:
        self._first_piece_chars = first_piece_chars
        self._max_piece_chars = max_piece_chars
        self._min_clause_chars = min_clause_chars
        self._buffer = ""
        self._pieces_out = 0

    def push(self, delta: str) -> list[str]:
        """Add reply text; return the pieces that are now complete, in order."""
        self._buffer += delta
        pieces: list[str] = []
        while (cut := self._next_cut()) is not None:
            piece, self._buffer = self._buffer[:cut], self._buffer[cut:]
            self._emit(piece, pieces)
        return pieces

    def flush(self) -> list[str]:
        """End of reply: whatever is left is the last piece."""
        pieces: list[str] = []
        self._emit(self._buffer, pieces)
        self._buffer = ""
        self._pieces_out = 0
        return pieces

    def _emit(self, piece: str, into: list[str]) -> None:
        piece = piece.strip()
        if _HAS_WORDS.search(piece):
            into.append(piece)
            self._pieces_out += 1

    def _next_cut(self) -> int | None:
        text = self._buffer
        for match in _SENTENCE_END.finditer(text):
            if match.group().startswith("\n") or self._ends_sentence(text, match):
                return self._first_clause(text[: match.end()]) or match.end()
        limit = self._max_piece_chars if self._pieces_out else self._first_piece_chars
        if len(text.strip()) <= limit:
            return None
        clause_cuts = [
            m.end() for m in _CLAUSE_END.finditer(text) if m.end() >= self._min_clause_chars
        ]
        if clause_cuts:
            return clause_cuts[-1]
        if len(text) > self._max_piece_chars * 3 // 2:
            space = text.rstrip().rfind(" ")
            return space if space > 0 else None
        return None

    def _first_clause(self, sentence: str) -> int | None:
        """Where a long first sentence's first clause ends: a reply that arrives whole (the
        rules agent's) would otherwise wait for the TTS of its whole first sentence."""
        if self._pieces_out or len(sentence.strip()) <= self._first_piece_chars:
            return None
        return next(
            (m.end() for m in _CLAUSE_END.finditer(sentence) if m.end() >= self._min_clause_chars),
            None,
        )

    def _ends_sentence(self, text: str, match: re.Match[str]) -> bool:
        if not match.group().startswith("."):
            return True
        word_match = _WORD_BEFORE.search(text[: match.start()])
        word = word_match.group(1).lower() if word_match else ""
        if word in _ALWAYS_ABBREVIATIONS:
            return False
        if len(word) == 1 and word != "i" and text[match.start() - 1].isupper():
            return False  # an initial: "J. Smith"
        if word in _MAYBE_ABBREVIATIONS:
            following = text[match.end() :].lstrip()
            if not following:
                return False  # wait to see what follows
            return following[0].isupper()
        return True
