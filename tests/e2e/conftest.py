"""End-to-end calls: a bridge on loopback, the simulated caller speaking Twilio's protocol."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.config import Settings
from bridge.sim.local import LocalBridge, local_bridge
from bridge.speech.factory import SpeechModels

REPO = Path(__file__).resolve().parents[2]
SPEED = 3.0  # the stream runs three times faster than real time; turn-taking is unchanged


def bridge_settings(tmp_path: Path, dialplans: Path | None = None) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DIALPLANS_DIR=dialplans or REPO / "dialplans",
        BRIDGE_DATA_DIR=tmp_path / "data",
    )


@pytest.fixture
async def bridge(tmp_path: Path, speech: SpeechModels) -> AsyncIterator[LocalBridge]:
    async with local_bridge(bridge_settings(tmp_path), speech) as running:
        yield running


@pytest.fixture
def custom_dialplans(tmp_path: Path) -> Path:
    """A copy of the shipped dialplans that a test may edit."""
    target = tmp_path / "dialplans"
    shutil.copytree(REPO / "dialplans", target)
    return target
