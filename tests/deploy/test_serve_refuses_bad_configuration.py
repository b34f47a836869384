"""`bridge serve` refuses to start, saying why, before it loads anything or takes a call."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOOD = {
    "PUBLIC_BASE_URL": "https://bridge.example.com",
    "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
    "TWILIO_AUTH_TOKEN": "b" * 32,
}


def serve(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "PUBLIC_"))}
    env |= {"DIALPLANS_DIR": str(REPO / "dialplans"), "BRIDGE_DATA_DIR": str(tmp_path / "data")}
    env |= GOOD | overrides
    argv = [sys.executable, "-m", "bridge", "--env-file", os.devnull, "serve"]
    return subprocess.run(
        [*argv, "--port", "1"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def test_missing_public_url_is_refused(tmp_path: Path) -> None:
    done = serve(tmp_path, PUBLIC_BASE_URL="")
    assert done.returncode == 2
    assert "PUBLIC_BASE_URL is not set" in done.stderr


def test_credentials_in_the_wrong_format_are_refused(tmp_path: Path) -> None:
    done = serve(tmp_path, TWILIO_ACCOUNT_SID="SK123", TWILIO_AUTH_TOKEN="not-a-token")
    assert done.returncode == 2
    assert "TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits" in done.stderr
    assert "TWILIO_AUTH_TOKEN must be 32 hex digits" in done.stderr


def test_an_invalid_dialplan_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    dialplans = tmp_path / "dialplans"
    shutil.copytree(REPO / "dialplans", dialplans)
    acme = dialplans / "acme.yaml"
    acme.write_text(acme.read_text().replace('target: "+15555550110"', "target: 12"))
    done = serve(tmp_path, DIALPLANS_DIR=str(dialplans))
    assert done.returncode == 2
    problems = [line for line in done.stderr.splitlines() if "configuration:" in line]
    assert any("acme.yaml:" in line and "target" in line for line in problems), done.stderr


def test_the_numbers_in_a_dialplan_problem_are_logged_whole(tmp_path: Path) -> None:
    """They are the admin's own configuration, not a caller's: masked, no one could fix them."""
    dialplans = tmp_path / "dialplans"
    shutil.copytree(REPO / "dialplans", dialplans)
    cedar = dialplans / "cedar.yaml"
    cedar.write_text(cedar.read_text().replace('"+15555550200"', '"+15555550100"', 1))
    done = serve(tmp_path, DIALPLANS_DIR=str(dialplans))
    assert done.returncode == 2
    problems = [line for line in done.stderr.splitlines() if "configuration:" in line]
    assert any("+15555550100 is already served by" in line for line in problems), done.stderr
