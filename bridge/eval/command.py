"""`bridge eval`: play conversation scenarios through the simulator and print the table."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bridge.config import Settings
from bridge.eval.runner import bridges, run_scenario
from bridge.eval.scenario import ScenarioError, load_scenario, shipped_scenarios
from bridge.eval.score import EvalTable, render, table


def add_eval_command(commands: Any) -> None:
    parser = commands.add_parser(
        "eval", help="play conversation scenarios through the simulator and score them"
    )
    parser.add_argument(
        "scenarios", nargs="*", type=Path, help="scenario YAML files (default: the shipped set)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="calls per scenario")
    parser.add_argument(
        "--endpointing",
        choices=("model", "silence"),
        help="override every dialplan's turns.endpointing (silence: the fixed window)",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="stream pace (2 = 2x)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    parser.add_argument("--show", action="store_true", help="print each call as it happens")
    parser.set_defaults(handler=_eval)


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    try:
        scenarios = [load_scenario(path) for path in args.scenarios or shipped_scenarios()]
    except ScenarioError as error:
        print(f"bridge eval: {error}", file=sys.stderr)
        return 2
    turns = {"endpointing": args.endpointing} if args.endpointing else {}

    async def run() -> EvalTable:
        printer = (lambda text: print(text, flush=True)) if args.show else None
        async with bridges(settings) as pool:
            scores = []
            for scenario in scenarios:
                if not args.json:
                    print(f"scenario {scenario.name} ...", file=sys.stderr, flush=True)
                scores.append(
                    await run_scenario(
                        scenario,
                        pool,
                        repeat=args.repeat,
                        turns=turns,
                        speed=args.speed,
                        on_print=printer,
                    )
                )
            return table(scores)

    result = asyncio.run(run())
    print(result.model_dump_json(indent=2) if args.json else render(result))
    return 0
