"""Which speech the settings build, and each dialplan's voice on the shared models."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from bridge.config import Settings
from bridge.dialplan.models import VoiceSettings
from bridge.speech.factory import SpeechModels, load_speech
from bridge.speech.openai_speech import OpenAISTT, OpenAITTS
from bridge.speech.piper_tts import PiperTTS
from bridge.speech.whisper_stt import WhisperSTT


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def local() -> Iterator[SpeechModels]:
    models = load_speech(_settings(SPEECH_WORKERS=3, SPEECH_QUEUE_LIMIT=5))
    yield models
    models.close()


@pytest.fixture
def remote() -> Iterator[SpeechModels]:
    models = load_speech(
        _settings(
            STT_PROVIDER="openai",
            TTS_PROVIDER="openai",
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        )
    )
    yield models
    models.close()


def test_local_settings_build_whisper_and_piper_on_one_pool_sized_by_settings(
    local: SpeechModels,
) -> None:
    assert isinstance(local.stt, WhisperSTT)
    assert isinstance(local.tts, PiperTTS)
    assert (local.pool.workers, local.pool.queue_limit) == (3, 5)


def test_openai_settings_build_openai_stt_and_tts(remote: SpeechModels) -> None:
    assert isinstance(remote.stt, OpenAISTT)
    assert isinstance(remote.tts, OpenAITTS)


async def test_openai_speech_shares_one_client_closed_at_shutdown_and_never_retried_by_the_sdk(
    remote: SpeechModels,
) -> None:
    client = remote.stt._client  # type: ignore[attr-defined]
    assert remote.tts._client is client  # type: ignore[attr-defined]
    assert client.max_retries == 0
    assert not client.is_closed()
    await remote.aclose()
    assert client.is_closed()


def test_openai_provider_without_api_key_is_refused() -> None:
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        load_speech(_settings(TTS_PROVIDER="openai"))


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"STT_PROVIDER\n.*'local', 'openai' or 'instant'"):
        _settings(STT_PROVIDER="espeak")


def test_default_voice_is_the_shared_tts_itself(local: SpeechModels) -> None:
    assert local.tts_for(VoiceSettings()) is local.tts


def test_dialplan_speed_gives_one_piper_voice_per_speed(
    local: SpeechModels,
) -> None:
    faster = local.tts_for(VoiceSettings(speed=1.3))

    assert isinstance(faster, PiperTTS)
    assert faster.speed == 1.3
    assert faster.sample_rate == local.tts.sample_rate
    assert local.tts_for(VoiceSettings(speed=1.3)) is faster


def test_openai_dialplan_voice_sets_name_and_speed(remote: SpeechModels) -> None:
    voice = remote.tts_for(VoiceSettings(provider="openai", name="nova", speed=1.1))

    assert isinstance(voice, OpenAITTS)
    assert (voice.voice, voice.speed) == ("nova", 1.1)
    assert voice.sample_rate == 24_000
