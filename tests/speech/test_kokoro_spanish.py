"""Kokoro reading espeak-ng's Spanish phonemes is understood over the phone line: the
multilingual recogniser writes back what it said (espeak-ng's own voice, the default, gets
four of these 13 words wrong: "perfone, podemos ... de un venimos comunicarle")."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest

from bridge.audio.phone import PHONE_RATE
from bridge.dialplan.voice_settings import LanguageVoice, VoiceSettings
from bridge.speech.base import RecognitionHints
from bridge.speech.piper_tts import PiperTTS
from bridge.speech.pool import ModelWorkerPool
from bridge.speech.whisper_stt import WhisperSTT
from bridge.speech_eval.phone_line import phone_line
from bridge.speech_eval.wer import word_errors

pytestmark = pytest.mark.models

SAID = "Perdone, puedo informarle del estado de un pedido o comunicarle con un departamento."


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


async def test_kokoro_speaks_spanish_a_caller_can_make_out() -> None:
    pool = ModelWorkerPool(1, 0, name="kokoro-test")
    try:
        kokoro = VoiceSettings(languages={"es": LanguageVoice(engine="kokoro")})
        voice = PiperTTS(pool).for_voice(kokoro, "es")
        pcm = b"".join([chunk async for chunk in voice.synthesize(SAID)])
        audio = np.frombuffer(pcm, "<i2").astype(np.float64) / 32768
        stt = WhisperSTT(pool).for_call(RecognitionHints(model="base", language="es"))
        heard = await stt.transcribe(phone_line(audio, voice.sample_rate), PHONE_RATE)
    finally:
        pool.close()
    assert word_errors(_plain(SAID), _plain(heard.text)).total <= 1, heard.text
