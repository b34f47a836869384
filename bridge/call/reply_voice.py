"""How a reply's pieces reach the caller's ear, whatever happens on the line meanwhile.

- A barge-in being judged holds the reply; a false one releases it, and the pieces the caller
  did not hear are said again first, from the start of the sentence that was cut.
- When the voice fails or stalls (see `speaker`), a kept phrase (from the phrase cache)
  apologises, once a reply. A voice that stalled is not waited for again in that reply: each
  piece would cost the caller another `voice_timeout_ms` of silence.
- When nothing of the reply plays `filler_after_ms` after the caller stopped speaking (the
  endpointing wait counts: the caller hears that silence too), a filler does, once a reply;
  then a keep-alive each `keepalive_after_ms` after the last was heard, at most
  `max_keepalives`: while a turn is answered no silence reaches 2 s. Fillers never set back
  the reply: its audio waits at most for the phrase already on the line.
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
        self._keepalives = itertools.cycle(settings.keepalives)

    async def say(self, reply: ReplyState, text: str | None, clock: TurnClock) -> None:
        """Speak one piece of `reply`; after a false interruption, first what the caller missed."""
        if reply.voice_stalled:
            reply.unheard = []
            return
        todo = [text] if text else []
        while True:
            await reply.released.wait()
            todo[:0] = reply.unheard
            reply.unheard = []
            if not todo:
                return
            try:
                said = await self._speaker.say(
                    reply.id,
                    todo[0],
                    reply.speaking,
                    partial(self._first_audio, reply, clock),
                    partial(clock.reached, "first_media"),
                )
            except TimeoutError:
                log.error("no audio from the voice for %d ms", self._settings.voice_timeout_ms)
                reply.voice_stalled = True
                del todo[1:]
                said = self._voice_failed(reply, todo)
            except Exception:
                log.exception("the voice failed on %r", todo[0])
                said = self._voice_failed(reply, todo)
            if said:
                todo.pop(0)

    @staticmethod
    def _first_audio(reply: ReplyState, clock: TurnClock) -> None:
        reply.spoke = True
        clock.reached("tts_first_audio")

    def _voice_failed(self, reply: ReplyState, todo: list[str]) -> bool:
        """The piece is lost; the first time in a reply, a kept phrase says so."""
        if not reply.voice_failed:
            reply.voice_failed = True
            todo.insert(1, self._settings.voice_failed)
        return True

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
            if not reply.unheard or reply.voice_stalled:
                return
            await self.say(reply, None, clock)

    async def fill_silence(self, reply: ReplyState) -> None:
        """Keep the caller company until the reply's own audio starts: a filler
        `filler_after_ms` after the caller stopped speaking, then a keep-alive each
        `keepalive_after_ms` after the last phrase was heard, at most `max_keepalives`."""
        settings = self._settings
        if not settings.filler_after_ms:
            return
        phrases = [next(self._fillers)]
        if settings.keepalive_after_ms:
            phrases += [next(self._keepalives) for _ in range(settings.max_keepalives)]
        loop = asyncio.get_running_loop()
        due = reply.turn.waiting_since + settings.filler_after_ms / 1000
        while phrases:
            await asyncio.sleep(max(0.0, due - loop.time()))
            if reply.spoke:
                return
            if self._tracker.playing:  # other audio on the line: wait for its end, then count
                await self._tracker.drained()
            elif not await self._keep_company(reply, phrases.pop(0)):
                return
            else:
                await self._tracker.drained()
            due = loop.time() + settings.keepalive_after_ms / 1000

    async def _keep_company(self, reply: ReplyState, text: str) -> bool:
        """Say a kept phrase in `reply`'s name (it is heard, so it is in the history), unless
        the reply's own audio got the line first. Not the reply's first audio: its latency is
        the reply's, and its pieces wait at most for the phrase on the line to finish."""
        await reply.released.wait()
        try:
            return await self._speaker.say(
                reply.id, text, reply.speaking, wanted=lambda: not reply.spoke
            )
        except Exception:  # a kept phrase should not fail; the reply's own fallbacks remain
            log.exception("could not say %r while the reply was slow", text)
            return False
