"""Every setting the code reads is in `.env.example` and in the README's settings table.

A new setting without its line in both fails here; so does a documented name the code no
longer reads (or a misspelled one, which a user would set to no effect).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.config import Settings

REPO = Path(__file__).resolve().parents[2]
NAME = r"[A-Z][A-Z0-9_]*"
# Reads of the environment outside the settings class (a write, `os.environ[X] = ...`, is not).
ENV_READ = re.compile(
    rf"""(?:getenv|environ\.get)\(\s*["']({NAME})["']"""
    rf"""|environ\[\s*["']({NAME})["']\s*\](?!\s*=[^=])"""
)
ASSIGNED = re.compile(rf"^({NAME})=", re.MULTILINE)
COMMENTED_OUT = re.compile(rf"^#\s*({NAME})=", re.MULTILINE)
YAML_KEY = re.compile(rf"^\s+({NAME}):", re.MULTILINE)


def read_by_code() -> set[str]:
    names = {field.alias or name.upper() for name, field in Settings.model_fields.items()}
    for path in (REPO / "bridge").rglob("*.py"):
        for found in ENV_READ.finditer(path.read_text(encoding="utf-8")):
            names.add(found[1] or found[2])
    return names


def in_env_example() -> set[str]:
    return set(ASSIGNED.findall((REPO / ".env.example").read_text(encoding="utf-8")))


def in_readme_table() -> set[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(rf"`({NAME})`", row.split("|")[1])}


def test_every_setting_the_code_reads_has_a_line_in_env_example() -> None:
    assert read_by_code() - in_env_example() == set()


def test_every_setting_the_code_reads_is_in_the_readme_settings_table() -> None:
    assert read_by_code() - in_readme_table() == set()


@pytest.mark.parametrize(
    "documented",
    [
        in_env_example(),
        in_readme_table(),
        set(COMMENTED_OUT.findall((REPO / ".env.example").read_text(encoding="utf-8"))),
        {
            *ASSIGNED.findall((REPO / "deploy/bridge.env.example").read_text(encoding="utf-8")),
            *COMMENTED_OUT.findall(
                (REPO / "deploy/bridge.env.example").read_text(encoding="utf-8")
            ),
        },
        {
            name
            for manifest in ("configmap.yaml", "secret.example.yaml")
            for name in YAML_KEY.findall((REPO / "deploy/k8s" / manifest).read_text("utf-8"))
        },
    ],
    ids=[".env.example", "README", ".env.example comments", "deploy env", "k8s manifests"],
)
def test_every_documented_setting_is_one_the_code_reads(documented: set[str]) -> None:
    assert documented - read_by_code() == set()


def test_the_scan_finds_environment_reads_written_the_usual_ways() -> None:
    code = """
    os.getenv("A_1")
    os.environ.get('B')
    environ["C"]
    os.environ["WRITTEN"] = "1"
    """
    assert {found[1] or found[2] for found in ENV_READ.finditer(code)} == {"A_1", "B", "C"}


def test_env_example_as_it_ships_is_a_valid_settings_file() -> None:
    settings = Settings(_env_file=REPO / ".env.example")  # type: ignore[call-arg]
    assert settings.bridge_agent == "dialplan"
