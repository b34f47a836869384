"""What a caller said, reduced to the words that matter for matching it."""

from __future__ import annotations

import re
import unicodedata

_NOT_A_WORD = re.compile(r"[^a-z0-9]+")


def plain_words(text: str) -> str:
    """Lower-case letters and digits only, one space between words ("Billing, please!" ->
    "billing please"), so that case, punctuation and spacing never decide a match. Accents
    go too ("Adiós" -> "adios"): recognisers write them inconsistently."""
    bare = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return " ".join(_NOT_A_WORD.sub(" ", bare).split())
