"""Whether the caller's sound over the agent was an interruption, judged once it is known.

`clear` goes out on speech onset, so a real interruption stops the agent at once. The reply it
cut holds until the caller's turn says what it was: dropped by the turn detector as too short
(a cough, a click), shorter than `min_ms`, or without `min_words` words once backchannels
("mm-hmm", "okay") are set aside is a false interruption, and the reply resumes from the start
of the sentence it cut. Anything else is the caller taking the floor: the reply is dropped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from bridge.audio.phone import PHONE_RATE
from bridge.call.playback import PlaybackTracker, SpokenPiece
from bridge.call.turns import PendingTurn, ReplyState
from bridge.dialplan.models import InterruptionSettings
from bridge.speech.base import SpeechToText

log = logging.getLogger(__name__)
OwnTask = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]
TurnAudio = Callable[[], bytes]  # the caller's turn so far

_NOT_A_WORD = re.compile(r"[^a-z0-9']+")


def _words(text: str) -> list[str]:
    return _NOT_A_WORD.sub(" ", text.lower()).split()


@functools.lru_cache(maxsize=64)
def _backchannel_phrases(phrases: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Each phrase as words, longest first, so "uh-huh" is set aside before "uh". Kept per
    list of phrases: every call of a dialplan shares them (each call built its own)."""
    return tuple(
        sorted(
            {tuple(_words(phrase)) for phrase in phrases if _words(phrase)}, key=len, reverse=True
        )
    )


class InterruptionJudge:
    def __init__(self, settings: InterruptionSettings) -> None:
        self.settings = settings
        self._backchannels = _backchannel_phrases(tuple(settings.backchannels))

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


class Interruptions:
    """The reply the caller's current turn talked over, held until that turn is judged.

    Holds no reference to the session: what it needs are the call's parts themselves.
    """

    def __init__(
        self,
        settings: InterruptionSettings,
        stt: SpeechToText,
        tracker: PlaybackTracker,
        floor_free: asyncio.Event,
        own: OwnTask,
    ) -> None:
        self.judge = InterruptionJudge(settings)
        self._stt = stt
        self._tracker = tracker
        self._floor_free = floor_free
        self._own = own
        self.held: ReplyState | None = None

    def hold(self, reply: ReplyState, cleared: list[SpokenPiece], turn_audio: TurnAudio) -> None:
        """A barge-in cleared `cleared`: `reply` waits, and will say again what was not heard."""
        reply.hold([piece.text for piece in cleared if piece.reply_id == reply.id and piece.marked])
        self.held = reply
        self._own(self._words_deadline(reply, turn_audio), "interruption")

    def take(self) -> ReplyState | None:
        """The held reply, now that the caller's turn over it has ended (judge it)."""
        reply, self.held = self.held, None
        return reply

    async def was_false(self, turn: PendingTurn) -> bool:
        """Whether the caller's turn over the agent was no interruption after all."""
        if turn.transcript is None:
            turn.transcript = self._own(self._stt.transcribe(turn.audio, PHONE_RATE), "stt")
        try:
            text = (await turn.transcript).text
        except Exception:  # unheard: the reply goes on rather than leave the line silent
            log.exception("speech recognition failed on a barge-in")
            text = ""
        if self.judge.is_false(text, turn.speech_ms):
            log.info("not an interruption (%r): the reply resumes", text)
            return True
        return False

    def resume(self, reply: ReplyState) -> None:
        """Let a held reply go on (a dropped one stays dropped: its task is cancelled)."""
        if not reply.released.is_set():
            reply.resumed += 1
            self._tracker.resumed(reply.id)
            reply.released.set()

    async def _words_deadline(self, reply: ReplyState, turn_audio: TurnAudio) -> None:
        """No words long after the onset (babble, a coughing fit): resume over the sound."""
        await asyncio.sleep(self.judge.settings.words_within_ms / 1000)
        if self.held is not reply or reply.released.is_set():
            return
        try:
            text = (await self._stt.transcribe(turn_audio(), PHONE_RATE)).text
        except Exception:
            log.exception("speech recognition failed on a barge-in")
            text = ""
        if self.held is reply and self.judge.is_false(text):
            log.info("no words over the agent (%r): the reply resumes over the sound", text)
            self._floor_free.set()
            self.resume(reply)
