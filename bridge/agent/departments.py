"""Department names as callers say them: the name, a synonym, or a word one sound off."""

from __future__ import annotations

import re
from difflib import get_close_matches

from bridge.agent.words import plain_words
from bridge.dialplan.models import Department

FUZZY_MIN_CHARS = 5  # shorter words are too easily one letter from another
FUZZY_CUTOFF = 0.85


class DepartmentNames:
    """Finds a department by its name or a synonym, ignoring case, spacing and punctuation."""

    _NOISE = re.compile(r"^(?:the )?(.*?)(?: (?:department|dept|team|desk|line))?$")

    def __init__(self, departments: dict[str, Department]) -> None:
        self._names = {plain_words(name): name for name in departments}
        self._synonyms = {
            plain_words(synonym): name
            for name, dept in departments.items()
            for synonym in dept.synonyms
            if plain_words(synonym)
        }

    def match(self, text: str) -> str | None:
        """The department `text` names as a whole ("Billing", "the accounts team")."""
        said = plain_words(text)
        for candidate in (said, self._NOISE.sub(r"\1", said)):
            found = self._names.get(candidate) or self._synonyms.get(candidate)
            if found:
                return found
        return None

    def find_in(self, text: str) -> str | None:
        """The department a sentence asks for: a name said outright beats a synonym; then the
        earliest mention wins, and the longest phrase among those starting together."""
        said = f" {plain_words(text)} "
        for table in (self._names, self._synonyms):
            hits = [
                (match.start(), -len(phrase), name)
                for phrase, name in table.items()
                if (match := re.search(rf" {re.escape(phrase)}(?:e?s)? ", said))
            ]
            if hits:
                return min(hits)[2]
        return self._near_miss(said.split())

    def _near_miss(self, words: list[str]) -> str | None:
        """A word one sound off a department's name ("billin", "suport"): phone speech
        recognition drops word endings, and asking again costs the caller more than this."""
        for word in words:
            if len(word) < FUZZY_MIN_CHARS:
                continue
            for table in (self._names, self._synonyms):
                close = get_close_matches(word, list(table), n=1, cutoff=FUZZY_CUTOFF)
                if close and len(close[0]) >= FUZZY_MIN_CHARS:
                    return table[close[0]]
        return None
