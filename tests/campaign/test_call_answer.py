"""`bridge call --answer`: the bridge places the call and the command answers it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bridge.cli import main
from tests.support.bridges import REPO


@pytest.fixture(autouse=True)
def instant_bridge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "STT_PROVIDER": "instant",
        "TTS_PROVIDER": "instant",
        "DIALPLANS_DIR": str(REPO / "dialplans"),
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
    }.items():
        monkeypatch.setenv(name, value)


def answer(capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, dict[str, object]]:
    code = main(
        ["--env-file", os.devnull, "call", "--dialplan", "acme", "--var", "name=Dana",
         "--var", "order_id=4572", "--speed", "3", "--json", *options]
    )  # fmt: skip
    return code, json.loads(capsys.readouterr().out)


def test_the_command_answers_as_a_person_or_a_voicemail_and_prints_the_outcome(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, report = answer(capsys, "--answer", "person", "--say", "Hello?")
    assert (code, report["outcome"], report["status"]) == (0, "human", "completed")
    turns = report["turns"]
    assert isinstance(turns, list) and turns[0]["agent"].startswith("Hi Dana, this is Acme")  # type: ignore[index]
    code, report = answer(capsys, "--answer", "voicemail")
    assert (code, report["outcome"]) == (0, "voicemail_left")
    code, report = answer(capsys, "--answer", "busy")
    assert (code, report["outcome"], report["status"]) == (0, "busy", "busy")


def test_a_call_the_bridge_refuses_to_place_is_explained(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["--env-file", os.devnull, "call", "--answer", "person", "--dialplan", "cedar"])
    assert code == 2
    assert "'cedar' has no outbound: block" in capsys.readouterr().err
