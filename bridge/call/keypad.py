"""DTMF keys: a mapped key acts on its own; digits ending in the terminator are a keyed entry.

A mapped key is also a digit: `1234#` with key 1 mapped to sales is an order number, not a
transfer. So a mapped key pressed first is held for `key_pause_ms` and acts only if no other
key follows; and while the agent waits for a keyed entry (it asked for one), keys never act.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bridge.dialplan.models import DtmfSettings, KeyAction

MAX_KEYED_DIGITS = 32
# "Please key in your order number, then press pound": the agent asks for keyed digits.
_ASKS_FOR_KEYS = re.compile(
    r"\b(keypad|key (it |them |that )?in|type (it |them |that )?in|(enter|key|type) (your|the)|"
    r"followed by (the )?(pound|hash|star)|press (the )?(pound|hash|star))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class KeyedEntry:
    digits: str


@dataclass(frozen=True)
class HeldKey:
    """A mapped key that acts once `key_pause_ms` pass without another key (see `release`)."""

    digit: str
    action: KeyAction
    press: int


def asks_for_keyed_entry(text: str) -> bool:
    """Whether the agent's words ask the caller to key something in."""
    return bool(_ASKS_FOR_KEYS.search(text))


class Keypad:
    """Collects keys on the stream's clock; a pause longer than the timeout starts afresh."""

    def __init__(self, settings: DtmfSettings) -> None:
        self._settings = settings
        self._digits = ""
        self._last_ms = 0.0
        self._presses = 0
        self.entry_expected = False  # set while the agent waits for keyed digits

    def press(self, digit: str, now_ms: float) -> KeyAction | HeldKey | KeyedEntry | None:
        """What the key does: a mapped action (now or held), a finished entry, or nothing yet."""
        if now_ms - self._last_ms > self._settings.inter_digit_timeout_ms:
            self._digits = ""
        self._last_ms = now_ms
        self._presses += 1
        action = self._settings.keys.get(digit)
        if not self._digits and action is not None and not self.entry_expected:
            if not self._settings.key_pause_ms:
                return action
            self._digits = digit
            return HeldKey(digit, action, self._presses)
        if digit == self._settings.order_id_terminator:
            digits, self._digits = self._digits, ""
            if digits:
                self.entry_expected = False
                return KeyedEntry(digits)
            return None
        if len(self._digits) < MAX_KEYED_DIGITS:
            self._digits += digit
        return None

    def release(self, held: HeldKey) -> KeyAction | None:
        """The pause after `held` ran out: its action, unless another key came after it."""
        if held.press != self._presses:
            return None
        self._digits = ""
        return held.action
