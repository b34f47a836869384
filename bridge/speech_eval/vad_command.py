"""`bridge wer --vad`: the voice-detector table (see `vad_run`), printed row by row."""

from __future__ import annotations

import json

from bridge.dialplan.models import TurnSettings
from bridge.speech_eval.corpus import Clip
from bridge.speech_eval.phone_line import Noise
from bridge.speech_eval.vad_run import FRONT_ENDS, VadScore, run_vad


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def render_vad(scores: list[VadScore]) -> str:
    rows = [
        "| front end | line | onset p50 ms | onset p95 ms | false starts /min noise | "
        "clips missed | speech lost | CPU us/frame | clips |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        line = s.noise if s.snr_db is None else f"{s.noise} {s.snr_db:g} dB"
        rows.append(
            f"| {s.front_end} | {line} | {_ms(s.onset_p50_ms)} | {_ms(s.onset_p95_ms)} | "
            f"{s.false_per_min:.1f} | {s.missed} | {_pct(s.speech_lost)} | "
            f"{s.cpu_us_per_frame:.1f} | {s.clips} |"
        )
    return "\n".join(rows)


def run_vad_command(
    front_ends: str, clips: list[Clip], noises: list[Noise], snrs: list[float], as_json: bool
) -> int:
    """Every named front end (comma-separated) on the default turn settings."""
    names = [name for name in front_ends.split(",") if name]
    for name in names:
        if name not in FRONT_ENDS:
            raise SystemExit(f"--vad {name!r}: expected some of {', '.join(FRONT_ENDS)}")
    if not as_json:
        print(render_vad([]))

    def progress(score: VadScore) -> None:
        if not as_json:
            print(render_vad([score]).splitlines()[-1], flush=True)

    scores = run_vad(clips, TurnSettings(), names, noises, snrs, progress)
    if as_json:
        print(json.dumps([s.model_dump() for s in scores], indent=2))
    return 0
