"""DTMF keys: a mapped key acts at once; digits ending in the terminator are a keyed entry."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.dialplan.models import DtmfSettings, KeyAction

MAX_KEYED_DIGITS = 32


@dataclass(frozen=True)
class KeyedEntry:
    digits: str


class Keypad:
    """Collects keys on the stream's clock; a pause longer than the timeout starts afresh."""

    def __init__(self, settings: DtmfSettings) -> None:
        self._settings = settings
        self._digits = ""
        self._last_ms = 0.0

    def press(self, digit: str, now_ms: float) -> KeyAction | KeyedEntry | None:
        """What the key does: a mapped action, a finished entry, or nothing yet."""
        if now_ms - self._last_ms > self._settings.inter_digit_timeout_ms:
            self._digits = ""
        self._last_ms = now_ms
        if not self._digits and digit in self._settings.keys:
            return self._settings.keys[digit]
        if digit == self._settings.order_id_terminator:
            digits, self._digits = self._digits, ""
            return KeyedEntry(digits) if digits else None
        if len(self._digits) < MAX_KEYED_DIGITS:
            self._digits += digit
        return None
