"""Find order numbers in what a caller said or keyed.

Whisper writes numbers as digits, often grouped ("4,572", "813-906", "#4572"); callers say
them digit by digit ("four five seven two", "oh" for zero, "double five"), in pairs ("forty
five seventy two") or as one number ("eighty-eight thousand three hundred ten"). Adjacent
numbers form one id, as they do when people read an id out in groups.
"""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    # Spanish callers' digits ("cuatro cinco siete dos").
    "cero": 0, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4,
    "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_REPEATS = {"double": 2, "triple": 3}
# Said between the digits of one id without ending it.
_FILLERS = {"uh", "um", "umm", "er", "erm", "ah", "dash", "hyphen", "hash", "pound", ","}
_SENTENCE_END = {".", "!", "?", ";", ":"}
# What the recogniser writes for "four" and "two" said inside a digit string ("order for 572").
_SOUNDALIKES = {"for": "4", "fore": "4", "to": "2", "too": "2"}
_ID_LEADS = {"order", "number", "is", "s", "id"}
_TOKEN = re.compile(r"\d+(?:[,.\-/]\d+)*|[a-z]+|[,.!?;:]")

DEFAULT_MIN_DIGITS = 3
DEFAULT_MAX_DIGITS = 12


_WRITTEN_TENS = re.compile(r"[2-9]0")
_WRITTEN_UNIT = re.compile(r"[1-9]")


def order_id_candidates(
    text: str, min_digits: int = DEFAULT_MIN_DIGITS, max_digits: int = DEFAULT_MAX_DIGITS
) -> list[str]:
    """Digit strings that may be an order id, most likely first, without repeats."""
    tokens = _TOKEN.findall(text.lower())
    candidates: list[str] = []
    # A "to"/"for" right after the digits may be their last digit ("order 457 to shipped"
    # for "4 5 7 2 shipped"): those readings come last, after the digits as written.
    for trailing in (False, True):
        for groups in _digit_runs(tokens, trailing_soundalikes=trailing):
            # Joined first; then each group, in case two numbers were said back to back.
            options = ["".join(groups), *groups] if len(groups) > 1 else groups
            for option in options:
                if min_digits <= len(option) <= max_digits and option not in candidates:
                    candidates.append(option)
    return candidates


def keyed_order_id(keys: str) -> str | None:
    """The digits keyed on the phone pad (`*` and `#` are not part of an id)."""
    digits = "".join(key for key in keys if key.isdigit())
    return digits or None


def _digit_runs(tokens: list[str], trailing_soundalikes: bool = False) -> list[list[str]]:
    """Each run of adjacent numbers, as the digit groups it was said in."""
    runs: list[list[str]] = []
    current: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token[0].isdigit():
            digits = re.sub(r"\D", "", token)
            if current and _WRITTEN_TENS.fullmatch(current[-1]) and _WRITTEN_UNIT.fullmatch(token):
                current[-1] = current[-1][0] + digits  # Whisper's "80 8" for "eighty eight"
            else:
                current.append(digits)
            i += 1
            continue
        if token in ("oh", "o") and not current and tokens[i + 1 : i + 2] == [","]:
            i += 1  # "Oh, ..." is a sigh, not a zero
            continue
        if token in _FILLERS or (token == "." and current and _starts_number(tokens, i + 1)):
            # Whisper puts full stops between digits said slowly ("7.2. Double 5").
            i += 1
            continue
        if token in _SOUNDALIKES and (
            _soundalike_is_digit(tokens, i, current) or (trailing_soundalikes and current)
        ):
            current.append(_SOUNDALIKES[token])
            i += 1
            continue
        spoken = _spoken_number(tokens, i)
        if spoken is not None:
            digits, i = spoken
            current.append(digits)
            continue
        if current:
            runs.append(current)
            current = []
        i += 1
    if current:
        runs.append(current)
    return runs


def _starts_number(tokens: list[str], i: int) -> bool:
    if i >= len(tokens):
        return False
    token = tokens[i]
    return token[0].isdigit() or token in _REPEATS or _below_hundred(tokens, i) is not None


def _soundalike_is_digit(tokens: list[str], i: int, current: list[str]) -> bool:
    """ "for" / "to" is a digit only inside a digit string: digits on both sides ("4 5 to 7"),
    or right after "order" / "number" / "is" ("my order for 5 7 2", "it's for 572")."""
    if not _starts_number(tokens, i + 1):
        return False
    return bool(current) or (i > 0 and tokens[i - 1] in _ID_LEADS)


def _spoken_number(tokens: list[str], i: int) -> tuple[str, int] | None:
    """The number said from `tokens[i]` on, as digits, and where it ends."""
    token = tokens[i]
    following = tokens[i + 1] if i + 1 < len(tokens) else ""
    if token in _REPEATS and (following in _UNITS or re.fullmatch(r"\d", following)):
        digit = following if following.isdigit() else str(_UNITS[following])
        return digit * _REPEATS[token], i + 2
    parsed = _below_thousand(tokens, i)
    if parsed is None:
        return None
    value, j = parsed
    if j < len(tokens) and tokens[j] == "thousand" and value < 1000:
        value, j = value * 1000, j + 1
        rest = _below_thousand(tokens, _skip_and(tokens, j))
        if rest is not None:
            value, j = value + rest[0], rest[1]
    return str(value), j


def _below_thousand(tokens: list[str], i: int) -> tuple[int, int] | None:
    """(value, end) for "four", "forty five", "four hundred ten", "forty five hundred"."""
    small = _below_hundred(tokens, i)
    if small is None:
        return None
    value, j = small
    if j < len(tokens) and tokens[j] == "hundred" and value > 0:
        value, j = value * 100, j + 1
        rest = _below_hundred(tokens, _skip_and(tokens, j))
        if rest is not None:
            value, j = value + rest[0], rest[1]
    return value, j


def _below_hundred(tokens: list[str], i: int) -> tuple[int, int] | None:
    if i >= len(tokens):
        return None
    token = tokens[i]
    if token in _TENS:
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if _UNITS.get(following, 0) > 0:
            return _TENS[token] + _UNITS[following], i + 2
        return _TENS[token], i + 1
    if token in _TEENS:
        return _TEENS[token], i + 1
    if token in _UNITS:
        return _UNITS[token], i + 1
    return None


def _skip_and(tokens: list[str], i: int) -> int:
    """ "four hundred and ten": the "and" belongs to the number."""
    return i + 1 if i < len(tokens) and tokens[i] == "and" else i
