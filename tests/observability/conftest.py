"""A bridge on loopback with instant speech (no models), for what it reports about itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.config import Settings
from bridge.demo.local import LocalBridge, local_bridge

REPO = Path(__file__).resolve().parents[2]


def instant_settings(tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DIALPLANS_DIR=REPO / "dialplans",
        BRIDGE_DATA_DIR=tmp_path / "data",
        STT_PROVIDER="instant",
        TTS_PROVIDER="instant",
        BRIDGE_INSTANCE_ID="test-instance",
    )


@pytest.fixture
async def instant_bridge(tmp_path: Path) -> AsyncIterator[LocalBridge]:
    async with local_bridge(instant_settings(tmp_path)) as running:
        yield running
