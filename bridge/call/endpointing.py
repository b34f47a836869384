"""When the caller's silence ends their turn: soon when they sound done, later when not.

At every pause the turn-end model hears the turn so far. Until its verdict the pause may last
`incomplete_ms`; a complete verdict shortens it to `complete_ms`, unless the speculative
transcript (already on its way for the reply) ends like an unfinished thought: a trailing
"and", "my order number is", a digit string still being read. A complete verdict only takes
effect once those words are in: waiting for them costs no latency, as the reply needs them
anyway, and the long window stays meanwhile, so a model that answers before the words (a
quiet machine) cannot end the turn before they can veto it. Without a model (or when it
fails) the pause ends after the dialplan's fixed `silence_ms`, as before.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Literal, Protocol

from bridge.agent.order_ids import order_id_candidates
from bridge.dialplan.models import TurnSettings
from bridge.speech.base import Transcript

log = logging.getLogger(__name__)

Verdict = Literal[
    "pending", "complete", "incomplete", "unfinished words", "failed", "no model", "digits"
]
OwnTask = Callable[[Coroutine[object, object, None], str], "asyncio.Task[None]"]

# Words a finished sentence does not end on: conjunctions, prepositions, articles,
# possessives, a verb waiting for its object, fillers (words that also end sentences,
# like "that", "so" or "please", are left out).
HOLD_WORDS = frozenset(
    """and or but because if than which whose while
    to of for from with without about at by into onto as
    the a an my your our their his her its
    is are was were am be been i'm it's uh um er erm""".split()
)
# Most gaps between words are shorter than this: the model is asked only once a pause has
# lasted this long, which spares it (and the cores) the gaps inside a sentence. It still
# answers well within complete_ms, and the transcript usually comes later anyway.
ASK_AFTER_S = 0.1
# A digit string this short at the very end is still being read (an order id, a ZIP).
MIN_DIGITS_READ = 4
_WORD = re.compile(r"[a-z0-9']+")
_TRAILING_DIGITS = re.compile(r"(?:\d[\s,.-]*)+$")


class TurnModel(Protocol):
    async def complete(self, pcm16: bytes, sample_rate: int) -> float:
        """P(the speaker has finished their turn), from the turn's audio so far."""
        ...


def sounds_unfinished(transcript: str) -> bool:
    """The words so far stop where a thought cannot end."""
    text = transcript.strip().lower()
    if not text:
        return False
    if text.endswith((",", "...", "-", "…")):
        return True
    if text.endswith("?"):
        return False  # "Who am I speaking with?" ends on a preposition, and is done
    digits = _TRAILING_DIGITS.search(text.rstrip(".?!"))
    if digits is not None:
        return len(re.sub(r"\D", "", digits.group())) < MIN_DIGITS_READ
    words = _WORD.findall(text)
    return bool(words) and words[-1] in HOLD_WORDS


class Endpointer:
    """Sets, at every pause, how long the silence must last to end the turn (`hold`)."""

    def __init__(
        self,
        settings: TurnSettings,
        model: TurnModel | None,
        sample_rate: int,
        hold: Callable[[int], None],
        own: OwnTask,
    ) -> None:
        self._settings = settings
        self._model = model if settings.endpointing == "model" else None
        self._rate = sample_rate
        self._hold = hold
        # The session's task owner: a verdict still pending is cancelled when the call closes.
        self._own = own
        self._task: asyncio.Task[None] | None = None
        self.verdict: Verdict = "no model"  # of the latest pause, for the turn's log line
        # Set while the agent waits for digits (call/digits_mode.py): see `silence_started`.
        self.expect_digits = False

    def silence_started(self, audio: bytes, transcript: asyncio.Task[Transcript] | None) -> None:
        """The caller fell silent after `audio`; `transcript` is being made of it."""
        self.cancel()
        # Digits come in groups with pauses between: while the agent waits for them, the
        # long window is `digits_ms`, and without a model every pause gets it. With one, a
        # complete verdict counts only once the words hold an id of MIN_DIGITS_READ digits
        # or more that is not still being read ("4 5 ..." waits; "4 5 7 2." ends at once).
        long_ms = self._settings.digits_ms if self.expect_digits else self._settings.incomplete_ms
        if self._model is None:
            self.verdict = "digits" if self.expect_digits else "no model"
            if self.expect_digits:
                self._hold(long_ms)
            return  # else the detector's own window, silence_ms, stands
        self.verdict = "pending"
        self._hold(long_ms)
        self._task = self._own(self._decide(self._model, audio, transcript, long_ms), "endpointing")

    def cancel(self) -> None:
        """The pause is over (speech resumed, or the turn ended): its verdict is moot."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _decide(
        self,
        model: TurnModel,
        audio: bytes,
        transcript: asyncio.Task[Transcript] | None,
        long_ms: int,
    ) -> None:
        await asyncio.sleep(ASK_AFTER_S)
        try:
            probability = await model.complete(audio, self._rate)
        except Exception:
            # Saturated pool, missing or broken model: this pause ends as it always did.
            log.warning("turn model failed; the fixed window ends this turn", exc_info=True)
            self.verdict = "failed"
            self._hold(long_ms if self.expect_digits else self._settings.silence_ms)
            return
        if probability < self._settings.complete_threshold:
            self.verdict = "incomplete"
            return
        # The long window holds until the words are in; once they are, a window the pause has
        # already outlasted ends the turn at once, so slow words delay nothing the reply
        # would not wait for anyway.
        words = await _words(transcript) if transcript is not None else None
        if self._words_go_on(words):
            self.verdict = "unfinished words"
            self._hold(long_ms)
            return
        self.verdict = "complete"
        self._hold(self._settings.complete_ms)

    def _words_go_on(self, words: str | None) -> bool:
        """The words (None: no transcript) say the caller has more to say."""
        if words is not None and sounds_unfinished(words):
            return True
        # Waiting for digits, only a whole id read out ends the wait early.
        return self.expect_digits and not order_id_candidates(
            words or "", min_digits=MIN_DIGITS_READ
        )


async def _words(transcript: asyncio.Task[Transcript]) -> str:
    """The transcript's text once it is done ("" if it failed), without cancelling it if we
    are: the reply still needs it."""
    await asyncio.wait([transcript])
    if transcript.cancelled() or transcript.exception() is not None:
        return ""
    return transcript.result().text
