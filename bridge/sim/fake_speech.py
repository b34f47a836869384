"""A stand-in for OpenAI's audio API on loopback, voiced by local models, failing to order.

`bridge eval` points a bridge's speech at it (through the real `openai` client, as
STT_PROVIDER/TTS_PROVIDER=openai do) to play what a failing or hanging speech vendor does to
a call. Each side's `Fault`: `none` answers with the local voice or recogniser, `fail`
answers 500 at once, `hang` never answers (nor closes the request) until the fake is closed.
"""

from __future__ import annotations

import asyncio
import io
import wave
from typing import Literal

from aiohttp import web

from bridge.audio.resample import Resampler
from bridge.sim.local_server import LocalServer
from bridge.speech.base import RecognitionHints, SpeechToText, TextToSpeech
from bridge.speech.openai_speech import OPENAI_PCM_RATE

Fault = Literal["none", "fail", "hang"]


class FakeSpeechApi(LocalServer):
    """`/v1/audio/speech` (streamed 24 kHz PCM) and `/v1/audio/transcriptions` (JSON)."""

    def __init__(self, stt: SpeechToText, tts: TextToSpeech) -> None:
        super().__init__()
        self._stt = stt
        self._tts = tts
        self.stt_fault: Fault = "none"
        self.tts_fault: Fault = "none"
        self.requests: list[str] = []  # "speech" / "transcription", as each one arrived
        self._closing = asyncio.Event()  # releases hung requests

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/audio/speech", self._speech)
        router.add_post("/v1/audio/transcriptions", self._transcription)

    async def close(self) -> None:
        self._closing.set()
        await super().close()

    async def _failure(self, fault: Fault) -> web.Response | None:
        if fault == "hang":
            await self._closing.wait()
        if fault == "none":
            return None
        error = {"message": f"scripted {fault}", "type": "server_error"}
        return web.json_response({"error": error}, status=500)

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        text = str((await request.json())["input"])
        self.requests.append("speech")
        if (failed := await self._failure(self.tts_fault)) is not None:
            return failed
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        resampler = Resampler(self._tts.sample_rate, OPENAI_PCM_RATE)
        async for pcm in self._tts.synthesize(text):
            await response.write(resampler.process(pcm))
        await response.write(resampler.flush())
        await response.write_eof()
        return response

    async def _transcription(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.requests.append("transcription")
        if (failed := await self._failure(self.stt_fault)) is not None:
            return failed
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return web.json_response({"error": {"message": "no file"}}, status=400)
        with wave.open(io.BytesIO(upload.file.read())) as wav:
            rate, pcm = wav.getframerate(), wav.readframes(wav.getnframes())
        hints = RecognitionHints(
            language=str(form.get("language") or "en"), vocabulary=str(form.get("prompt") or "")
        )
        heard = await self._stt.for_call(hints).transcribe(pcm, rate)
        return web.json_response({"text": heard.text})
