"""Run the recogniser over the corpus, once per setting and line condition, and score it."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from bridge.agent.departments import DepartmentNames
from bridge.agent.order_ids import order_id_candidates
from bridge.audio.phone import PHONE_RATE
from bridge.dialplan.loader import load_dialplans
from bridge.dialplan.models import Dialplan
from bridge.speech.base import SpeechToText
from bridge.speech.hints import hints_for
from bridge.speech.pool import ModelWorkerPool
from bridge.speech.whisper_stt import WhisperOptions, WhisperSTT
from bridge.speech_eval.corpus import CLIP_RATE, Clip, babble_talkers, read_clip
from bridge.speech_eval.phone_line import Noise, babble_from, phone_line, suppressed
from bridge.speech_eval.wer import wer

# Named decode and front-end settings to compare. "before" is how the bridge decoded before
# it was measured on real voices.
SETTINGS: dict[str, WhisperOptions] = {
    "before": WhisperOptions(resample="linear", timestamps=False, hints="off"),
    "soxr": WhisperOptions(resample="soxr", timestamps=False, hints="off"),
    "soxr+ts": WhisperOptions(resample="soxr", timestamps=True, hints="off"),
    "soxr+ts+prompt": WhisperOptions(resample="soxr", timestamps=True, hints="prompt"),
    "soxr+ts+hotwords": WhisperOptions(resample="soxr", timestamps=True, hints="hotwords"),
    "soxr+ts+beam5": WhisperOptions(resample="soxr", timestamps=True, beam_size=5, hints="off"),
    # The default, with the order-id clips heard in digits mode, as a call hears the turn
    # after the agent asked for an order number (call/digits_mode.py).
    "digits-mode": WhisperOptions(),
}
DIGITS_MODE_SETTINGS = {"digits-mode"}
# Routing is scored against the example line's departments; its vocabulary is the hints.
EXAMPLE_DIALPLANS = Path(__file__).resolve().parents[2] / "dialplans"


class Heard(BaseModel):
    clip: str
    said: str
    heard: str
    ms: float
    cpu_ms: float  # the process's CPU time for the turn: steadier than wall time on a busy box
    confidence: float = 1.0  # the recogniser's own (speech.base.Transcript)
    right: bool | None = None  # digits and routing clips: the id / department came out right


class Score(BaseModel):
    """One setting under one line condition."""

    model: str
    setting: str
    noise: str
    suppression: str = "off"  # noise suppression before the recogniser (turns.noise_suppression)
    denoise: str = "spectral"  # the recogniser's own per-turn noise reduction (recognition.denoise)
    wer_human: float | None
    wer_tts: float | None
    digits_exact: float | None
    routed: float | None
    p50_ms: float
    p95_ms: float
    cpu_p50_ms: float
    turns: int
    heard: list[Heard]


def _share(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def _example_line() -> Dialplan:
    return next(plan for plan in load_dialplans(EXAMPLE_DIALPLANS) if plan.name == "acme")


async def score_setting(
    clips: list[Clip],
    lines: dict[tuple[str, str], bytes],
    stt: SpeechToText,
    model: str,
    setting: str,
    noise: str,
    digits_stt: SpeechToText | None = None,
) -> Score:
    route = DepartmentNames(_example_line().departments).find_in
    heard: list[Heard] = []
    for clip in clips:
        started, cpu = time.perf_counter(), time.process_time()
        hearer = digits_stt if digits_stt is not None and clip.kind == "digits" else stt
        transcript = await hearer.transcribe(lines[(clip.id, noise)], PHONE_RATE)
        text = transcript.text
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
        right: bool | None = None
        if clip.kind == "digits":
            found = order_id_candidates(text)
            right = bool(found) and found[0] == clip.expect
        elif clip.kind == "route":
            right = route(text) == clip.expect
        heard.append(
            Heard(
                clip=clip.id,
                said=clip.text,
                heard=text,
                ms=round(ms, 1),
                cpu_ms=round(cpu_ms, 1),
                confidence=transcript.confidence,
                right=right,
            )
        )
    by_id = {clip.id: clip for clip in clips}

    def pairs(voice: str) -> list[tuple[str, str]]:
        return [
            (h.said, h.heard)
            for h in heard
            if by_id[h.clip].voice == voice and by_id[h.clip].kind == "read"
        ]

    times = [h.ms for h in heard]
    return Score(
        model=model,
        setting=setting,
        noise=noise,
        wer_human=wer(pairs("human")) if pairs("human") else None,
        wer_tts=wer(pairs("tts")) if pairs("tts") else None,
        digits_exact=_share([bool(h.right) for h in heard if by_id[h.clip].kind == "digits"]),
        routed=_share([bool(h.right) for h in heard if by_id[h.clip].kind == "route"]),
        p50_ms=round(statistics.median(times), 1),
        p95_ms=round(float(np.percentile(times, 95)), 1),
        cpu_p50_ms=round(statistics.median(h.cpu_ms for h in heard), 1),
        turns=len(heard),
        heard=heard,
    )


def phone_lines(
    clips: list[Clip], noises: list[Noise], snr_db: float, suppression: str = "off"
) -> dict[tuple[str, str], bytes]:
    """Every clip through the phone line under every condition (the same for every setting),
    then through `suppression` as the turn detector runs it for the recogniser.
    Babble is the corpus's real read speech by other speakers (corpus.babble_talkers)."""
    audio = {clip.id: read_clip(clip) for clip in clips}
    lines = {}
    for n, clip in enumerate(clips):
        babble = None
        if "babble" in noises:
            babble = babble_from([audio[c.id] for c in babble_talkers(clips, clip)], CLIP_RATE)
        for noise in noises:
            line = phone_line(audio[clip.id], CLIP_RATE, noise, snr_db, seed=n, babble=babble)
            lines[(clip.id, noise)] = suppressed(line, suppression)
    return lines


async def evaluate(
    clips: list[Clip],
    models: dict[str, str],
    settings: list[str],
    noises: list[Noise],
    snr_db: float,
    threads: int,
    progress: Callable[[Score], None] = lambda _: None,
    suppressions: tuple[str, ...] = ("off",),
    denoises: tuple[str, ...] = ("spectral",),
) -> list[Score]:
    """Scores for every model x setting x suppression x denoise x condition (the clips are all
    of one language)."""
    heard_lines = {name: phone_lines(clips, noises, snr_db, name) for name in suppressions}
    scores = []
    for model_name, model_path in models.items():
        for setting in settings:
            pool = ModelWorkerPool(1, 0, name="wer")
            language = clips[0].language if clips else "en"
            hints = hints_for(_example_line()).model_copy(
                update={"model": model_path, "language": language}
            )
            try:
                whisper = WhisperSTT(pool, threads=threads, options=SETTINGS[setting])
                await whisper.for_call(hints).load()
                for denoise in denoises:
                    line_hints = hints.model_copy(update={"denoise": denoise})
                    stt = whisper.for_call(line_hints)
                    digits_stt = None
                    if setting in DIGITS_MODE_SETTINGS:
                        digits_stt = stt.for_call(line_hints.model_copy(update={"digits": True}))
                    for suppression, lines in heard_lines.items():
                        for noise in noises:
                            score = await score_setting(
                                clips, lines, stt, model_name, setting, noise, digits_stt
                            )
                            update = {"suppression": suppression, "denoise": denoise}
                            score = score.model_copy(update=update)
                            progress(score)
                            scores.append(score)
            finally:
                pool.close()
    return scores


def run(
    clips: list[Clip],
    models: dict[str, str],
    settings: list[str],
    noises: list[Noise],
    snr_db: float,
    threads: int,
    progress: Callable[[Score], None] = lambda _: None,
    suppressions: tuple[str, ...] = ("off",),
    denoises: tuple[str, ...] = ("spectral",),
) -> list[Score]:
    return asyncio.run(
        evaluate(clips, models, settings, noises, snr_db, threads, progress, suppressions, denoises)
    )
