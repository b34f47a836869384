"""Whether the caller's sound over the agent was an interruption, judged once it is known.

`clear` goes out on speech onset, so a real interruption stops the agent at once. The reply it
cut holds until the caller's turn says what it was: dropped by the turn detector as too short
(a cough, a click), shorter than `min_ms`, or without `min_words` words once backchannels
("mm-hmm", "okay") are set aside is a false interruption, and the reply resumes from the start
of the sentence it cut. Anything else is the caller taking the floor: the reply is dropped.
"""

from __future__ import annotations

import re

from bridge.dialplan.models import InterruptionSettings

_NOT_A_WORD = re.compile(r"[^a-z0-9']+")


def _words(text: str) -> list[str]:
    return _NOT_A_WORD.sub(" ", text.lower()).split()


class InterruptionJudge:
    def __init__(self, settings: InterruptionSettings) -> None:
        self.settings = settings
        # Longest phrases first, so "uh-huh" is set aside before "uh".
        self._backchannels = sorted(
            {tuple(_words(phrase)) for phrase in settings.backchannels if _words(phrase)},
            key=len,
            reverse=True,
        )

    def is_false(self, text: str, speech_ms: int | None = None) -> bool:
        """True when `text` (said for `speech_ms`) does not take the floor from the agent."""
        if speech_ms is not None and speech_ms < self.settings.min_ms:
            return True
        return len(self.content_words(text)) < self.settings.min_words

    def content_words(self, text: str) -> list[str]:
        """The words of `text` that are not backchannels."""
        words, kept, index = _words(text), [], 0
        while index < len(words):
            phrase = next(
                (p for p in self._backchannels if tuple(words[index : index + len(p)]) == p),
                None,
            )
            if phrase is None:
                kept.append(words[index])
                index += 1
            else:
                index += len(phrase)
        return kept
