"""The fixed phrases a dialplan's calls may say, cut and spelled as the speaker will say them.

The speaker speaks reply text a sentence at a time through `make_speakable`, so the phrase
cache is warmed with exactly those pieces: a kept phrase is found by its exact text.
"""

from __future__ import annotations

from bridge.agent.phrases import phrases_for
from bridge.call.chunker import SentenceChunker
from bridge.call.speakable import make_speakable
from bridge.dialplan.models import Dialplan


def fixed_pieces(dialplan: Dialplan) -> list[str]:
    call, fallback = dialplan.call, dialplan.agent.fallback
    texts = [
        dialplan.greeting,
        dialplan.goodbye,
        dialplan.reprompt,
        *call.fillers,
        *call.keepalives,
        call.not_heard,
        call.voice_failed,
        call.idle.reprompt,
        *dialplan.agent.filler_phrases,
        fallback.repeat,
        fallback.hold,
        fallback.transfer_notice,
        fallback.callback_promise,
        # the rules agent's, said while a slow lookup runs
        phrases_for(dialplan.recognition.language).checking,
    ]
    pieces: list[str] = []
    for text in texts:
        chunker = SentenceChunker()
        for piece in [*chunker.push(text), *chunker.flush()]:
            spoken = make_speakable(piece)
            if spoken.strip() and spoken not in pieces:
                pieces.append(spoken)
    return pieces
