"""`bridge wer`: word error rate, digit and routing accuracy, time per turn, per setting."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import get_args

from bridge.config import Settings
from bridge.speech_eval.calibrate import render_calibration
from bridge.speech_eval.corpus import BUILT_CORPUS, load_corpus
from bridge.speech_eval.phone_line import Noise
from bridge.speech_eval.run import SETTINGS, Score, run


def add_wer_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    wer = commands.add_parser(
        "wer",
        help="measure speech recognition on real voices over a simulated phone line",
        description="Each clip of the speech corpus goes through a phone line (300-3400 Hz, "
        "8 kHz mu-law; clean, white noise or babble at --snr dB) into the local recogniser. "
        "Build the corpus first: python -m bridge.speech_eval.build",
    )
    wer.add_argument(
        "--model",
        action="append",
        default=[],
        help="NAME=PATH of a faster-whisper model folder (repeatable; default: the bundled "
        "tiny.en)",
    )
    wer.add_argument(
        "--setting",
        action="append",
        choices=list(SETTINGS),
        help=f"decode/front-end setting (repeatable; default: all of {', '.join(SETTINGS)})",
    )
    wer.add_argument(
        "--noise", default="clean,white,babble", help=f"line conditions, of {get_args(Noise)}"
    )
    wer.add_argument("--snr", type=float, default=10.0, help="signal-to-noise ratio in dB")
    wer.add_argument("--threads", type=int, default=2, help="CPU threads for the recogniser")
    wer.add_argument("--corpus", type=Path, default=BUILT_CORPUS, help="the built corpus folder")
    wer.add_argument("--only", default="", help="clip ids containing this text")
    wer.add_argument(
        "--language",
        default="en",
        help="the corpus's clips in this language, decoded in it (es needs a multilingual "
        "--model)",
    )
    wer.add_argument("--json", action="store_true", help="every score and transcript as JSON")
    wer.add_argument("--errors", action="store_true", help="list the turns heard wrong")
    wer.add_argument(
        "--calibrate",
        action="store_true",
        help="how well each 'unsure' confidence threshold separates right turns from wrong",
    )
    wer.set_defaults(handler=_wer)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def render(scores: list[Score]) -> str:
    rows = [
        "| model | setting | line | WER human | WER tts | order ids exact | routed | "
        "p50 ms | p95 ms | CPU p50 ms | turns |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        rows.append(
            f"| {s.model} | {s.setting} | {s.noise} | {_pct(s.wer_human)} | {_pct(s.wer_tts)} | "
            f"{_pct(s.digits_exact)} | {_pct(s.routed)} | {s.p50_ms:.0f} | {s.p95_ms:.0f} | "
            f"{s.cpu_p50_ms:.0f} | {s.turns} |"
        )
    return "\n".join(rows)


def _errors(score: Score) -> str:
    lines = [f"## {score.model} / {score.setting} / {score.noise}"]
    for h in score.heard:
        if h.right is False or (h.right is None and h.said.lower() != h.heard.lower()):
            lines.append(f"- {h.clip}: said {h.said!r} heard {h.heard!r}")
    return "\n".join(lines)


def _wer(args: argparse.Namespace, settings: Settings) -> int:
    os.environ["HF_HUB_OFFLINE"] = "1"
    corpus = load_corpus(args.corpus)
    clips = [c for c in corpus if c.language == args.language and args.only in c.id]
    if not clips:
        print("no clips: build the corpus with `python -m bridge.speech_eval.build`")
        return 1
    models = dict(spec.split("=", 1) for spec in args.model) or {"tiny.en": ""}
    noises = [n for n in args.noise.split(",") if n]
    for noise in noises:
        if noise not in get_args(Noise):
            raise SystemExit(f"--noise {noise!r}: expected some of {', '.join(get_args(Noise))}")
    chosen = args.setting or list(SETTINGS)

    def progress(score: Score) -> None:
        if not args.json:
            print(render([score]).splitlines()[-1], flush=True)

    if not args.json:
        print(render([]))
    scores = run(clips, models, chosen, noises, args.snr, args.threads, progress)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps([s.model_dump() for s in scores], indent=2))
    elif args.errors:
        print("\n\n".join(_errors(s) for s in scores))
    if args.calibrate and not args.json:
        print()
        print(render_calibration(scores))
    return 0
