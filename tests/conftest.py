"""Fixtures shared by the whole suite: one set of local speech models per test session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from bridge.config import Settings
from bridge.speech.factory import SpeechModels, load_speech
from tests.support.postgres import postgres_cluster  # noqa: F401  (one cluster per session)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# No test may reach a real LLM or Twilio because the developer's shell or .env has keys.
for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
    os.environ.pop(name, None)


@pytest.fixture(scope="session")
async def speech() -> AsyncIterator[SpeechModels]:
    models = load_speech(Settings(_env_file=None))  # type: ignore[call-arg]
    await models.warm_up()
    yield models
    models.close()
