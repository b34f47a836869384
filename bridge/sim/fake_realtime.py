"""A local stand-in for OpenAI's Realtime API: its WebSocket events, over loopback.

The real `openai` client reaches it through its base URL (`{url}/v1/realtime`). It runs the
bridge's own VAD as its "server VAD" (speech started / stopped), hears each caller turn as
the next scripted `RealtimeTurn` (or through a speech-to-text it is given), and answers after
a fixed, settable delay with g711 mu-law audio deltas (a tone, or a TTS voice when given),
the transcript of that audio, and function calls. It honours `response.cancel`, records every
`conversation.item.truncate`, and can refuse connections, drop the socket or stall, so the
bridge's fallbacks can be proven.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from typing import Any

from aiohttp import web

from bridge.sim.fake_llm import FakeReply
from bridge.sim.fake_realtime_conversation import Conversation, RealtimeTurn, Truncation
from bridge.sim.local_server import LocalServer
from bridge.speech.base import SpeechToText, TextToSpeech

MS_PER_WORD = 300  # the tone's length per word of the transcript
# For `bridge bench`: an audio delta starts with STAMP, then a 4-byte number: 6 samples of the
# tone replaced (a click; the bench only counts audio).
STAMP = b"\x7f\xff"
STAMP_BYTES = len(STAMP) + 4


class FakeRealtime(LocalServer):
    """Serves `/v1/realtime`; one WebSocket per bridge call."""

    def __init__(self, delay_s: float = 0.2, chunk_ms: int = 100) -> None:
        super().__init__()
        self.delay_s = delay_s  # from the end of a caller turn to the response's first event
        self.chunk_ms = chunk_ms  # audio per `response.output_audio.delta`
        # Audio sent at this many times real time (0: all at once, the worst case for a client).
        self.audio_pace = 0.0
        self.stt: SpeechToText | None = None  # hears caller turns when none is scripted
        self.reply: FakeReply | None = None  # answers every unscripted turn so (the bench)
        self.ms_per_word = MS_PER_WORD  # the tone's length per word
        self.tts: TextToSpeech | None = None  # speaks replies; None: a tone
        self.refuse = False  # answer the upgrade with HTTP 500
        self.drop_after_responses: int | None = None  # close the socket after this many
        self.stall = False  # accept turns but never answer them
        self.fail = False  # answer every response with status "failed" and no output
        # Report this output format in session.updated whatever was asked (as some accounts
        # are said to do: 24 kHz PCM16 for a request of mu-law).
        self.output_format = ""
        self.sessions: list[dict[str, Any]] = []  # each connection's last session.update
        self.client_events: list[dict[str, Any]] = []  # every client event but audio appends
        self.messages_received = 0  # every client event, audio appends too
        self.truncations: list[Truncation] = []
        self.cancels = 0
        # For `bridge bench`: each audio delta starts with STAMP and a number, kept here with
        # its connection and send time (perf_counter), so the far end can time the relay.
        self.stamp_audio = False
        self.stamps: dict[int, tuple[int, float]] = {}
        self.speech_started: dict[int, list[float]] = {}  # connection -> perf_counter times
        self._conversations = itertools.count(1)
        self._stamp_ids = itertools.count(1)
        self._script: deque[RealtimeTurn] = deque()
        self._responses = 0

    def script(self, *turns: RealtimeTurn) -> None:
        self._script.extend(turns)

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    def _routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/v1/realtime", self._connect)

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        if self.refuse:
            return web.json_response({"error": {"message": "unavailable"}}, status=500)
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conversation = Conversation(
            self, ws, request.query.get("model", ""), next(self._conversations)
        )
        await conversation.run()
        return ws

    def _next_turn(self) -> RealtimeTurn | None:
        return self._script.popleft() if self._script else None

    def _stamped(self, conversation: int, ulaw: bytes) -> bytes:
        if not self.stamp_audio or len(ulaw) < STAMP_BYTES:
            return ulaw
        stamp = next(self._stamp_ids)
        self.stamps[stamp] = (conversation, time.perf_counter())
        return STAMP + stamp.to_bytes(4, "big") + ulaw[STAMP_BYTES:]

    def _count_response(self) -> bool:
        """Count a response; False when the socket is due to drop instead."""
        self._responses += 1
        limit = self.drop_after_responses
        return limit is None or self._responses <= limit
