"""Fixtures shared by the whole suite: one set of local speech models per test session."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.config import Settings
from bridge.demo.local import LocalBridge, local_bridge
from bridge.speech.factory import SpeechModels, load_speech
from tests.support.bridges import REPO, bridge_settings
from tests.support.postgres import postgres_cluster  # noqa: F401  (one cluster per session)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# No test may reach a real LLM or Twilio because the developer's shell or .env has keys.
for name in (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_REALTIME_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
):
    os.environ.pop(name, None)


@pytest.fixture(scope="session")
async def speech() -> AsyncIterator[SpeechModels]:
    models = load_speech(Settings(_env_file=None))  # type: ignore[call-arg]
    await models.warm_up()
    yield models
    models.close()


@pytest.fixture
async def bridge(tmp_path: Path, speech: SpeechModels) -> AsyncIterator[LocalBridge]:
    """A bridge on loopback with the shipped dialplans, its REST calls on a fake Twilio."""
    async with local_bridge(bridge_settings(tmp_path), speech) as running:
        yield running


@pytest.fixture
def custom_dialplans(tmp_path: Path) -> Path:
    """A copy of the shipped dialplans that a test may edit."""
    target = tmp_path / "dialplans"
    shutil.copytree(REPO / "dialplans", target)
    return target
