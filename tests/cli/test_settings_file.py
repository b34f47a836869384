"""`--env-file`: a settings file the user names must exist; the default `.env` is optional."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def bridge(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bridge", *argv, "dialplans", "check"]
    command += ["--dir", str(REPO / "dialplans")]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_a_named_settings_file_that_does_not_exist_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent.env"
    done = bridge(tmp_path, "--env-file", str(missing))
    assert done.returncode == 2
    assert f"settings file not found: {missing}" in done.stderr
    assert "ok:" not in done.stdout


def test_a_named_folder_is_not_a_settings_file(tmp_path: Path) -> None:
    done = bridge(tmp_path, "--env-file", str(tmp_path))
    assert done.returncode == 2
    assert f"settings file not found: {tmp_path}" in done.stderr


def test_without_a_dot_env_the_default_still_runs(tmp_path: Path) -> None:
    done = bridge(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 2 dialplans")


def test_a_named_settings_file_is_read(tmp_path: Path) -> None:
    settings = tmp_path / "bridge.env"
    settings.write_text(f"DIALPLANS_DIR={tmp_path / 'elsewhere'}\n")
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "--env-file", str(settings), "dialplans", "check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "elsewhere: (file): dialplans folder not found" in done.stdout
