"""OpenAI STT/TTS with the real `openai` client, against a local server speaking the same wire."""

from __future__ import annotations

import io
import math
import struct
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from openai import AsyncOpenAI

from bridge.speech.openai_speech import OPENAI_PCM_RATE, OpenAISTT, OpenAITTS
from tests.support.loopback import serving

API_KEY = "sk-test-speech"
# 0.3 s of a 440 Hz tone at 24 kHz: what the fake speech endpoint "says".
SPOKEN_PCM = b"".join(
    struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / OPENAI_PCM_RATE)))
    for n in range(OPENAI_PCM_RATE * 3 // 10)
)


@dataclass
class FakeOpenAIAudio:
    """What the fake API received, so tests assert on the wire, not on our objects."""

    uploads: list[dict[str, Any]] = field(default_factory=list)
    speech_requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/audio/transcriptions", self.transcriptions)
        app.router.add_post("/v1/audio/speech", self.speech)
        return app

    async def transcriptions(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField)
        with wave.open(io.BytesIO(upload.file.read()), "rb") as wav:
            received = {
                "filename": upload.filename,
                "rate": wav.getframerate(),
                "channels": wav.getnchannels(),
                "width": wav.getsampwidth(),
                "pcm": wav.readframes(wav.getnframes()),
            }
        received |= {key: form[key] for key in ("model", "language", "response_format")}
        self.uploads.append(received)
        return web.json_response({"text": "  I'd like to check order 4572.  "})

    async def speech(self, request: web.Request) -> web.StreamResponse:
        assert request.headers["Authorization"] == f"Bearer {API_KEY}"
        self.speech_requests.append(await request.json())
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        # Odd-sized pieces, as a network may cut them, mid-sample.
        for start in range(0, len(SPOKEN_PCM), 4001):
            await response.write(SPOKEN_PCM[start : start + 4001])
        await response.write_eof()
        return response


@pytest.fixture
def fake() -> FakeOpenAIAudio:
    return FakeOpenAIAudio()


@pytest.fixture
async def client(fake: FakeOpenAIAudio) -> AsyncIterator[AsyncOpenAI]:
    async with serving(fake.app()) as url:
        client = AsyncOpenAI(api_key=API_KEY, base_url=f"{url}/v1", max_retries=0)
        yield client
        await client.close()


async def test_openai_stt_uploads_the_utterance_as_wav_and_returns_stripped_text(
    client: AsyncOpenAI, fake: FakeOpenAIAudio
) -> None:
    utterance = SPOKEN_PCM[: 8000 * 2]
    stt = OpenAISTT(client, model="whisper-1")

    heard = await stt.transcribe(utterance, 8000)

    assert heard.text == "I'd like to check order 4572."
    [upload] = fake.uploads
    assert upload["filename"] == "utterance.wav"
    assert (upload["rate"], upload["channels"], upload["width"]) == (8000, 1, 2)
    assert upload["pcm"] == utterance
    assert (upload["model"], upload["language"], upload["response_format"]) == (
        "whisper-1",
        "en",
        "json",
    )


async def test_openai_stt_sends_nothing_for_empty_audio(
    client: AsyncOpenAI, fake: FakeOpenAIAudio
) -> None:
    assert (await OpenAISTT(client).transcribe(b"", 8000)).text == ""
    assert fake.uploads == []


async def test_openai_tts_streams_whole_samples_of_24khz_pcm(
    client: AsyncOpenAI, fake: FakeOpenAIAudio
) -> None:
    tts = OpenAITTS(client, voice="nova", speed=1.25)

    chunks = [chunk async for chunk in tts.synthesize("Your order has shipped.")]

    assert tts.sample_rate == 24_000
    assert b"".join(chunks) == SPOKEN_PCM
    assert all(len(chunk) % 2 == 0 for chunk in chunks)
    [request] = fake.speech_requests
    assert request == {
        "model": "gpt-4o-mini-tts",
        "voice": "nova",
        "input": "Your order has shipped.",
        "response_format": "pcm",
        "speed": 1.25,
    }


async def test_openai_tts_with_voice_changes_voice_and_speed_on_the_wire(
    client: AsyncOpenAI, fake: FakeOpenAIAudio
) -> None:
    tts = OpenAITTS(client).with_voice("echo", 0.8)

    async for _ in tts.synthesize("Hello."):
        pass

    [request] = fake.speech_requests
    assert (request["voice"], request["speed"]) == ("echo", 0.8)
