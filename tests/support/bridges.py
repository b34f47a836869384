"""Settings for a bridge under test: the shipped dialplans, data in the test's own folder."""

from __future__ import annotations

from pathlib import Path

from bridge.config import Settings

REPO = Path(__file__).resolve().parents[2]


def bridge_settings(tmp_path: Path, dialplans: Path | None = None, **values: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        DIALPLANS_DIR=dialplans or REPO / "dialplans",
        BRIDGE_DATA_DIR=tmp_path / "data",
        **values,
    )
