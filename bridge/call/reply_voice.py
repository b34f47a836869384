"""How a reply's pieces reach the caller's ear, whatever happens on the line meanwhile.

- A barge-in being judged holds the reply; a false one releases it, and the pieces the caller
  did not hear are said again first, from the start of the sentence that was cut.
- When the voice fails, a kept phrase (from the phrase cache) apologises, once a reply.
- When nothing of the reply plays `filler_after_ms` into it, a filler does, once a reply.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from functools import partial

from bridge.call.chunker import SentenceChunker
from bridge.call.latency import TurnClock
from bridge.call.playback import PlaybackTracker
from bridge.call.speaker import Speaker
from bridge.call.turns import ReplyState
from bridge.dialplan.models import CallSettings

log = logging.getLogger(__name__)


class ReplyVoice:
    def __init__(self, speaker: Speaker, tracker: PlaybackTracker, settings: CallSettings) -> None:
        self._speaker = speaker
        self._tracker = tracker
        self._settings = settings
        self._fillers = itertools.cycle(settings.fillers)

    async def say(self, reply: ReplyState, text: str | None, clock: TurnClock) -> None:
        """Speak one piece of `reply`; after a false interruption, first what the caller missed."""
        todo = [text] if text else []
        while True:
            await reply.released.wait()
            todo[:0] = reply.unheard
            reply.unheard = []
            if not todo:
                return
            async with reply.speaking:
                reply.spoke = True
                try:
                    said = await self._speaker.say(
                        reply.id,
                        todo[0],
                        partial(clock.reached, "tts_first_audio"),
                        partial(clock.reached, "first_media"),
                    )
                except Exception:
                    log.exception("the voice failed on %r", todo[0])
                    said = True
                    if not reply.voice_failed:  # say so once, in a kept phrase
                        reply.voice_failed = True
                        todo.insert(1, self._settings.voice_failed)
            if said:
                todo.pop(0)

    async def say_scripted(self, reply: ReplyState, text: str, clock: TurnClock) -> None:
        """Fixed text, a sentence at a time, so a barge-in cuts it where it is."""
        chunker = SentenceChunker()
        for piece in [*chunker.push(text), *chunker.flush()]:
            await self.say(reply, piece, clock)

    async def finish(self, reply: ReplyState, clock: TurnClock) -> None:
        """Mark the end of the reply and wait until the caller has heard all of it."""
        while True:
            await self._speaker.end_reply(reply.id)
            await self._tracker.drained()
            await reply.released.wait()
            if not reply.unheard:
                return
            await self.say(reply, None, clock)

    async def fill_silence(self, reply: ReplyState, clock: TurnClock) -> None:
        """Nothing of the reply playing `filler_after_ms` after the turn: a filler, once."""
        if not self._settings.filler_after_ms:
            return
        await asyncio.sleep(self._settings.filler_after_ms / 1000)
        if not reply.spoke and not self._tracker.playing:
            await self.say(reply, next(self._fillers), clock)
