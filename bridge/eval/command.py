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
from bridge.eval.turn_check import TurnModelCheck, check_turn_model
from bridge.speech.factory import load_speech


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
    parser.add_argument(
        "--turn-model",
        action="store_true",
        help="instead: the turn-end model's accuracy on phone audio (complete vs cut clips)",
    )
    parser.set_defaults(handler=_eval)


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.turn_model:
        return _turn_model(args, settings)
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
            model = pool.speech.turn_model
            return table(scores, model.stats() if model is not None else None)

    result = asyncio.run(run())
    print(result.model_dump_json(indent=2) if args.json else render(result))
    return 0


def _turn_model(args: argparse.Namespace, settings: Settings) -> int:
    speech = load_speech(settings)
    model = speech.turn_model
    if model is None:
        print("bridge eval: no turn model (see README: When a turn ends)", file=sys.stderr)
        return 2

    async def run() -> TurnModelCheck:
        try:
            return await check_turn_model(model, speech.caller_tts)
        finally:
            speech.close()

    check = asyncio.run(run())
    if args.json:
        print(check.model_dump_json(indent=2))
    else:
        for name in ("complete", "cut_mid_sentence", "fragments_said_alone"):
            clips = getattr(check, name)
            print(f"{name:<22} {clips.judged_right:>3}/{clips.clips} judged right")
        print(
            f"one verdict: {check.verdict_ms_p50} ms wall, {check.verdict_cpu_ms_p50} ms CPU "
            "(medians, features included)"
        )
    return 0
