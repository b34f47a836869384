"""`bridge demo` (or any command that serves dialplans) run outside the project folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bridge.cli import main


def test_demo_outside_the_project_folder_says_where_it_looked_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no dialplans/ here
    monkeypatch.delenv("DIALPLANS_DIR", raising=False)
    assert main(["--env-file", os.devnull, "demo"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert str(tmp_path / "dialplans") in error and "DIALPLANS_DIR" in error


def test_a_broken_dialplan_is_named_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dialplans").mkdir()
    (tmp_path / "dialplans" / "shop.yaml").write_text("name: shop\ngreeting: [not, text]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIALPLANS_DIR", raising=False)
    assert main(["--env-file", os.devnull, "demo"]) == 2
    error = capsys.readouterr().err
    assert "shop.yaml" in error and "greeting" in error and "Traceback" not in error
