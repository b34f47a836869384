"""Speech through OpenAI's audio API (or any server that speaks it, via the client's base URL)."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator

from openai import AsyncOpenAI, omit

from bridge.dialplan.models import VoiceSettings
from bridge.speech.base import RecognitionHints, Transcript
from bridge.speech.hints import digits_prompt

# response_format="pcm" is always 24 kHz mono PCM16, little-endian.
OPENAI_PCM_RATE = 24_000
DEFAULT_STT_MODEL = "gpt-4o-mini-transcribe"
DEFAULT_TTS_MODEL = "gpt-4o-mini-tts"
DEFAULT_TTS_VOICE = "alloy"
# The speech API accepts speeds in this range.
MIN_SPEED, MAX_SPEED = 0.25, 4.0


def wav_bytes(pcm16: bytes, sample_rate: int) -> bytes:
    """Mono PCM16 wrapped in a WAV header, in memory (the upload needs a file format)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm16)
    return buffer.getvalue()


class OpenAISTT:
    """`SpeechToText` on the transcriptions endpoint (`whisper-1`, `gpt-4o-mini-transcribe`)."""

    def __init__(
        self,
        client: AsyncOpenAI,
        model: str = DEFAULT_STT_MODEL,
        language: str = "en",
        prompt: str = "",
    ) -> None:
        self._client = client
        self._model = model
        self._language = language
        self._prompt = prompt

    def for_call(self, hints: RecognitionHints) -> OpenAISTT:
        """The line's language ("auto": the service detects it) and vocabulary as the prompt."""
        prompt = digits_prompt(hints.language) if hints.digits else hints.vocabulary
        return OpenAISTT(self._client, self._model, hints.language, prompt)

    async def transcribe(self, pcm16: bytes, sample_rate: int) -> Transcript:
        if not pcm16:
            return Transcript()
        result = await self._client.audio.transcriptions.create(
            file=("utterance.wav", wav_bytes(pcm16, sample_rate), "audio/wav"),
            model=self._model,
            language=omit if self._language == "auto" else self._language,
            prompt=self._prompt or omit,
            response_format="json",
        )
        return Transcript(text=result.text.strip(), language=self._language)


class OpenAITTS:
    """`TextToSpeech` on the speech endpoint, streamed: audio is yielded as it arrives."""

    def __init__(
        self,
        client: AsyncOpenAI,
        model: str = DEFAULT_TTS_MODEL,
        voice: str = DEFAULT_TTS_VOICE,
        speed: float = 1.0,
    ) -> None:
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be within {MIN_SPEED}..{MAX_SPEED}, got {speed}")
        self._client = client
        self._model = model
        self._voice = voice
        self._speed = speed

    @property
    def sample_rate(self) -> int:
        return OPENAI_PCM_RATE

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def voice(self) -> str:
        return self._voice

    @property
    def provider(self) -> str:
        return "openai"

    def for_voice(self, voice: VoiceSettings, language: str = "auto") -> OpenAITTS:
        """The dialplan's voice name (when it asks for OpenAI's) and speed, clamped to the API's
        range; this very TTS when that is what it already speaks. Every OpenAI voice speaks
        the language of its text, so `language` changes nothing."""
        name = voice.name if voice.provider == self.provider else ""
        speed = min(MAX_SPEED, max(MIN_SPEED, voice.speed))
        if (name or self._voice) == self._voice and speed == self._speed:
            return self
        return self.with_voice(name, speed)

    def with_voice(self, voice: str, speed: float) -> OpenAITTS:
        """Another voice or speed on the same client and model ("" keeps this voice)."""
        return OpenAITTS(self._client, self._model, voice or self._voice, speed)

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        if not text.strip():
            return
        async with self._client.audio.speech.with_streaming_response.create(
            model=self._model,
            voice=self._voice,
            input=text,
            response_format="pcm",
            speed=self._speed,
        ) as response:
            # Network chunks may split a sample; hold an odd byte back for the next chunk.
            carry = b""
            async for data in response.iter_bytes():
                data = carry + data
                cut = len(data) - len(data) % 2
                carry = data[cut:]
                if cut:
                    yield data[:cut]
