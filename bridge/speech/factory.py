"""The process's speech: one worker pool, one STT and one TTS, shared by every call."""

from __future__ import annotations

import logging

from openai import AsyncOpenAI

from bridge.config import Settings
from bridge.dialplan.models import Dialplan, VoiceSettings
from bridge.openai_client import openai_client
from bridge.speech.base import (
    DialplanVoices,
    LocalModel,
    RecognitionHints,
    SpeechToText,
    SteadyVoice,
    TextToSpeech,
)
from bridge.speech.hints import hints_for
from bridge.speech.instant import InstantSTT, InstantTTS
from bridge.speech.openai_speech import OpenAISTT, OpenAITTS
from bridge.speech.phrases import PhraseCache
from bridge.speech.piper_tts import PiperTTS
from bridge.speech.pool import ModelWorkerPool
from bridge.speech.turn_model import SmartTurn, TurnModelUnavailable, bundled_model_path
from bridge.speech.whisper_stt import WhisperSTT

log = logging.getLogger(__name__)

WARM_UP_TEXT = "Hello."
# Half a second of silence at 16 kHz: enough to run Whisper once when no local voice exists.
WARM_UP_SILENCE = bytes(16_000)
# Turn-end verdicts waiting beyond this many fall back to the fixed silence window.
TURN_QUEUE_LIMIT = 16


class SpeechModels:
    """Owns the pool and the models; `tts_for` gives each dialplan its voice speed."""

    def __init__(
        self,
        pool: ModelWorkerPool,
        stt: SpeechToText,
        tts: TextToSpeech,
        turn_model: SmartTurn | None = None,
        client: AsyncOpenAI | None = None,
    ) -> None:
        self.pool = pool
        self._client = client  # OpenAI's, when speech goes there: closed by `aclose`
        self.stt = stt
        # None: no model installed, or instant speech; dialplans then end turns on silence_ms.
        self.turn_model = turn_model
        self.tts = tts  # the process's voice, at the default speed
        self._voices: dict[tuple[str, str], TextToSpeech] = {}
        self._recognisers: dict[RecognitionHints, SpeechToText] = {}
        # Simulated callers speak without piper's random variation, so a script that is
        # heard right once is heard the same way on every run.
        self.caller_tts = tts.steady() if isinstance(tts, SteadyVoice) else tts
        # Greetings, fillers, apologies...: synthesized once per voice, shared by every call.
        self.phrases = PhraseCache()

    def stt_for(self, dialplan: Dialplan) -> SpeechToText:
        """The process's STT hearing this line's language, with its model and vocabulary."""
        hints = hints_for(dialplan)
        if hints not in self._recognisers:
            self._recognisers[hints] = self.stt.for_call(hints)
        return self._recognisers[hints]

    def tts_for(self, voice: VoiceSettings, language: str = "auto") -> TextToSpeech:
        """The process's TTS at this dialplan's speed (and voice name, for OpenAI), speaking
        `language` (the line's `recognition.language`) with the voice set for it.

        The provider is the process's (its models are what is loaded); a dialplan asking for
        another one is served by this one, with a warning.
        """
        key = (voice.model_dump_json(), language)
        if key not in self._voices:
            self._voices[key] = self._make_voice(voice, language)
        return self._voices[key]

    def _make_voice(self, voice: VoiceSettings, language: str) -> TextToSpeech:
        base = self.tts
        if not isinstance(base, DialplanVoices):
            return base  # one sound for every line (instant speech)
        if voice.provider != base.provider:
            log.warning(
                "dialplan voice asks for %s TTS but this process speaks with %s (TTS_PROVIDER)",
                voice.provider,
                base.provider,
            )
        return base.for_voice(voice, language)

    async def warm_up(self) -> None:
        """Load the local models and run each once, so the first caller isn't the slow one."""
        tts, stt = self.tts, self.stt
        if isinstance(tts, LocalModel):
            await tts.load()
            audio = b"".join([chunk async for chunk in tts.synthesize(WARM_UP_TEXT)])
            rate = tts.sample_rate
        else:
            audio, rate = WARM_UP_SILENCE, 16_000
        if isinstance(stt, LocalModel):
            await stt.load()
            await stt.transcribe(audio, rate)
        if self.turn_model is not None:
            await self.turn_model.load()
            await self.turn_model.complete(audio, rate)

    async def aclose(self) -> None:
        """At shutdown: close the OpenAI client's connections, then `close`."""
        if self._client is not None:
            await self._client.close()
        self.close()

    def close(self) -> None:
        """Stop the pools (an OpenAI client's connections are `aclose`'s)."""
        self.pool.close()
        if self.turn_model is not None:
            self.turn_model.close()


def load_speech(settings: Settings) -> SpeechModels:
    """Build (not load) the speech the settings ask for; `warm_up` loads the local models."""
    pool = ModelWorkerPool(settings.speech_workers, settings.speech_queue_limit, name="speech")
    uses_openai = "openai" in (settings.stt_provider, settings.tts_provider)
    client = _openai_client(settings) if uses_openai else None
    stt: SpeechToText = WhisperSTT(pool)
    if client is not None and settings.stt_provider == "openai":
        stt = OpenAISTT(client)
    elif settings.stt_provider == "instant":
        stt = InstantSTT()
    tts: TextToSpeech = PiperTTS(pool)
    if client is not None and settings.tts_provider == "openai":
        tts = OpenAITTS(client)
    elif settings.tts_provider == "instant":
        tts = InstantTTS()
    return SpeechModels(pool, stt, tts, _turn_model(settings), client)


def _turn_model(settings: Settings) -> SmartTurn | None:
    """Smart Turn on its own one-thread pool, when installed (not for instant speech)."""
    if settings.stt_provider == "instant":
        return None
    try:
        path = bundled_model_path()
    except TurnModelUnavailable as error:
        log.warning("%s; turns end on each dialplan's silence_ms", error)
        return None
    return SmartTurn(ModelWorkerPool(1, TURN_QUEUE_LIMIT, name="turn"), path)


def _openai_client(settings: Settings) -> AsyncOpenAI:
    if not settings.openai_api_key.get_secret_value():
        raise ValueError("STT_PROVIDER/TTS_PROVIDER=openai needs OPENAI_API_KEY")
    return openai_client(settings)
