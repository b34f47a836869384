"""Make reply text fit to be spoken: no markdown, and ids, money, times and dates read well.

Every rewrite produces text that no rule matches again, so `make_speakable` is idempotent
(it may run on a piece and again on a whole reply).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_MONTHS = (
    "January February March April May June July August September October November December"
).split()

# Markdown, removed but keeping the words.
_CODE_FENCE = re.compile(r"```[^\n]*\n?|```")
_INLINE_CODE = re.compile(r"`([^`]*)`")
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# Headers, bullets, numbered items and quotes, however they nest: "> - **1.** x".
_LINE_MARKERS = re.compile(
    r"^(?:[ \t]*(?:#{1,6}|[-*+•>]|\d{1,2}[.)])(?=[ \t]|$))+[ \t]*", re.MULTILINE
)
_RULE = re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*{1,3}|(?<!\w)_{1,3})(\S(?:.*?\S)?)\1(?!\w)")
_STRAY_MARKUP = re.compile(r"[*#`|]+|~~")

# Numbers.
_MONEY = re.compile(r"(?<!\w)\$(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{2}))?(?!\d)")
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})(?:\s*([AaPp])\.?\s?[Mm](?![a-zA-Z]))?")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_PHONE = re.compile(r"(?<![\w.,])(?:\+?\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?!\w)")
_ID_WORDS = (
    r"(?:order|orders|number|no\.|id|account|confirmation|reference|ref|ticket|tracking|"
    r"code|pin|extension|ext\.?|invoice|case|#)"
)
_KEYED_ID = re.compile(
    rf"(?i)(?<!\w)({_ID_WORDS}(?:\s+(?:is|was|number|no\.))?[\s:#]*)"
    r"((?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{2,})"
)
_LONG_DIGITS = re.compile(r"(?<![\w.,$])\d{6,}(?![\w,]|\.\d)")
_MIXED_ID = re.compile(r"\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9]+(?:-[A-Z0-9]+)*\b")
_SPACES = re.compile(r"[ \t]+")
_MAX_ROUNDS = 8
_SYMBOLS: dict[str, str] = {"&": " and ", "%": " percent", "@": " at "}


def make_speakable(text: str) -> str:
    """Return `text` as a TTS should read it."""
    # One rewrite can expose work for an earlier one ("A0:00" -> "A 0:00"); every rewrite
    # only removes markup or splits tokens, so a few rounds reach the fixed point.
    for _ in range(_MAX_ROUNDS):
        spoken = _rewrite_once(text)
        if spoken == text:
            break
        text = spoken
    return text


def _rewrite_once(text: str) -> str:
    for rewrite in _REWRITES:
        text = rewrite(text)
    return _SPACES.sub(" ", text).strip()


def _strip_markdown(text: str) -> str:
    # Each removal can expose more markup ("**- x**"); it only deletes, so it settles.
    while (stripped := _strip_markdown_once(text)) != text:
        text = stripped
    return text


def _strip_markdown_once(text: str) -> str:
    text = _CODE_FENCE.sub("", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _RULE.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _LINE_MARKERS.sub("", text)
    return _STRAY_MARKUP.sub(" ", text)


def _spell(token: str) -> str:
    """'A-4572' -> 'A 4 5 7 2': one character at a time, the way ids are read out."""
    return " ".join(ch for ch in token if ch.isalnum())


def _money(match: re.Match[str]) -> str:
    dollars, cents = int(match.group(1).replace(",", "")), int(match.group(2) or 0)
    words = f"{match.group(1)} dollar{'s' if dollars != 1 else ''}"
    if cents and dollars:
        return f"{words} and {cents} cent{'s' if cents != 1 else ''}"
    if cents:
        return f"{cents} cent{'s' if cents != 1 else ''}"
    return words


def _time(match: re.Match[str]) -> str:
    hour, minute, half = int(match.group(1)), int(match.group(2)), match.group(3)
    if hour > 23 or minute > 59:
        return match.group(0)
    suffix = f" {half.upper()} M" if half else ""
    if minute == 0:
        return f"{hour}{suffix}" if half else f"{hour} o'clock"
    spoken_minute = f"oh {minute}" if minute < 10 else str(minute)
    return f"{hour} {spoken_minute}{suffix}"


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _date(year: str, month: str, day: str, original: str) -> str:
    m, d = int(month), int(day)
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return original
    return f"{_MONTHS[m - 1]} {_ordinal(d)}, {int(year)}"


def _dates(text: str) -> str:
    text = _ISO_DATE.sub(lambda m: _date(m[1], m[2], m[3], m[0]), text)
    return _US_DATE.sub(lambda m: _date(m[3], m[1], m[2], m[0]), text)


def _phone(match: re.Match[str]) -> str:
    groups = re.findall(r"\d+", match.group(0))
    return ", ".join(_spell(group) for group in groups)


def _ids(text: str) -> str:
    text = _PHONE.sub(_phone, text)
    text = _KEYED_ID.sub(lambda m: m.group(1) + _spell(m.group(2)), text)
    text = _LONG_DIGITS.sub(lambda m: _spell(m.group(0)), text)
    return _MIXED_ID.sub(lambda m: _spell(m.group(0)), text)


def _symbols(text: str) -> str:
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words)
    return text


_REWRITES: tuple[Callable[[str], str], ...] = (
    _strip_markdown,
    _dates,
    lambda text: _TIME.sub(_time, text),
    _ids,
    lambda text: _MONEY.sub(_money, text),
    _symbols,
)
