"""`bridge dialplans check`: validate the dialplan folder the way the server would load it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bridge.config import Settings
from bridge.dialplan.loader import check_dialplans, load_dialplans


def add_dialplans_command(subparsers: Any) -> None:
    """Register `dialplans check [--dir DIR]` on an argparse `add_subparsers()` object."""
    dialplans = subparsers.add_parser("dialplans", help="work with the dialplan files")
    commands = dialplans.add_subparsers(dest="dialplans_command", required=True)
    check = commands.add_parser("check", help="validate every dialplan; exit 1 on problems")
    check.add_argument(
        "--dir", type=Path, default=None, help="dialplans folder (default: DIALPLANS_DIR)"
    )
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    """Print `ok: N dialplans`, or each problem as `file:line: field: message`; the exit code."""
    directory: Path = args.dir or settings.dialplans_dir
    problems = check_dialplans(directory)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"ok: {len(load_dialplans(directory))} dialplans")
    return 0
