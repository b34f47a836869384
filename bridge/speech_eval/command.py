"""`bridge wer`: word error rate, digit and routing accuracy, time per turn, per setting."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import get_args

from bridge.audio.voice import FILTERS, VoiceModelMissing
from bridge.config import Settings
from bridge.speech_eval.calibrate import render_calibration
from bridge.speech_eval.corpus import BUILT_CORPUS, Clip, load_corpus
from bridge.speech_eval.phone_line import Noise
from bridge.speech_eval.run import SETTINGS, Score, run
from bridge.speech_eval.vad_command import run_vad_command
from bridge.speech_eval.vad_run import FRONT_ENDS


def add_wer_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    wer = commands.add_parser(
        "wer",
        help="measure speech recognition on real voices over a simulated phone line",
        description="Each clip of the speech corpus goes through a phone line (300-3400 Hz, "
        "8 kHz mu-law; clean, white noise or babble at --snr dB) into the local recogniser. "
        "Build the corpus first: python -m bridge.speech_eval.build. With --vad, the voice "
        "detectors are measured instead (onset, false starts, missed speech, CPU per frame).",
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
    wer.add_argument(
        "--snr", default="10", help="signal-to-noise ratio in dB (comma-separated: each of them)"
    )
    wer.add_argument(
        "--suppression",
        default="off",
        help=f"noise suppression before the recogniser, comma-separated, of "
        f"off,{','.join(FILTERS)}",
    )
    wer.add_argument(
        "--denoise",
        default="spectral",
        help="the recogniser's per-turn noise reduction (recognition.denoise), comma-separated, "
        "of off,spectral",
    )
    wer.add_argument(
        "--vad",
        nargs="?",
        const=",".join(FRONT_ENDS),
        default="",
        help=f"measure the voice detectors instead: front ends, comma-separated, of "
        f"{','.join(FRONT_ENDS)} (default: all)",
    )
    wer.add_argument("--threads", type=int, default=2, help="CPU threads for the recogniser")
    wer.add_argument("--corpus", type=Path, default=BUILT_CORPUS, help="the built corpus folder")
    wer.add_argument("--only", default="", help="clip ids containing this text")
    wer.add_argument(
        "--language",
        default="en",
        help="the corpus's clips in this language, decoded in it (es needs a multilingual --model)",
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
        "| model | setting | suppression | denoise | line | WER human | WER tts | "
        "order ids exact | routed | p50 ms | p95 ms | CPU p50 ms | turns |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        rows.append(
            f"| {s.model} | {s.setting} | {s.suppression} | {s.denoise} | {s.noise} | "
            f"{_pct(s.wer_human)} | "
            f"{_pct(s.wer_tts)} | "
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


def _recognition(
    args: argparse.Namespace,
    clips: list[Clip],
    models: dict[str, str],
    noises: list[Noise],
    snrs: list[float],
) -> list[Score]:
    """Every setting and suppression at every SNR, each row printed as it comes; the line
    column names the SNR."""
    chosen = args.setting or list(SETTINGS)
    suppressions = tuple(name for name in args.suppression.split(",") if name)
    for name in suppressions:
        if name != "off" and name not in FILTERS:
            raise SystemExit(f"--suppression {name!r}: expected some of off,{','.join(FILTERS)}")
    denoises = tuple(name for name in args.denoise.split(",") if name)
    for name in denoises:
        if name not in ("off", "spectral"):
            raise SystemExit(f"--denoise {name!r}: expected some of off,spectral")
    if not args.json:
        print(render([]))
    scores: list[Score] = []
    for snr in snrs:

        def progress(score: Score, snr: float = snr) -> None:
            if score.noise != "clean":
                score = score.model_copy(update={"noise": f"{score.noise} {snr:g} dB"})
            scores.append(score)
            if not args.json:
                print(render([score]).splitlines()[-1], flush=True)

        run(clips, models, chosen, noises, snr, args.threads, progress, suppressions, denoises)
    return scores


def _wer(args: argparse.Namespace, settings: Settings) -> int:
    os.environ["HF_HUB_OFFLINE"] = "1"
    corpus = load_corpus(args.corpus)
    clips = [c for c in corpus if c.language == args.language and args.only in c.id]
    if not clips:
        print("no clips: build the corpus with `python -m bridge.speech_eval.build`")
        return 1
    models = dict(spec.split("=", 1) for spec in args.model) or {"tiny.en": ""}
    noises: list[Noise] = [n for n in args.noise.split(",") if n]  # type: ignore[misc]
    for noise in noises:
        if noise not in get_args(Noise):
            raise SystemExit(f"--noise {noise!r}: expected some of {', '.join(get_args(Noise))}")
    try:
        snrs = [float(snr) for snr in args.snr.split(",") if snr]
    except ValueError as error:
        raise SystemExit(f"--snr {args.snr!r}: expected numbers in dB, comma-separated") from error
    try:
        if args.vad:
            return run_vad_command(args.vad, clips, noises, snrs, args.json)
        scores = _recognition(args, clips, models, noises, snrs)
    except VoiceModelMissing as error:
        raise SystemExit(str(error)) from error
    if args.json:
        print(json.dumps([s.model_dump() for s in scores], indent=2))
    elif args.errors:
        print("\n\n".join(_errors(s) for s in scores))
    if args.calibrate and not args.json:
        print()
        print(render_calibration(scores))
    return 0
