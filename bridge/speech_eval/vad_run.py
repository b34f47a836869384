"""`bridge wer --vad`: each voice detector (and noise suppression) on the simulated phone line.

Every clip is put between LEAD_S of nothing and TAIL_S of nothing, then through the phone line,
so the line's noise (white or babble at the SNR) also fills the gaps: those stretches are
noise only. The clean line, at the same offsets, says where the speech really is (frames
within SPEECH_DB of the loudest). Each setting's turn detector, built from the dialplan's own
`turns` with only `vad` / `noise_suppression` changed, hears the line frame by frame:

- onset: from the first real speech frame to SpeechStarted (the debounce included);
- false triggers: SpeechStarted in the noise-only stretches, per minute of them;
- missed: clips whose speech is in no turn's audio; speech lost: the share of speech frames
  outside every turn's audio (pre-roll and tail included; a turn the noise still holds open
  at the end counts as far as it got). In babble a turn often starts on the background
  talkers before the clip's speech: then there is no onset to time, and that start counts
  as a false one;
- CPU per frame: the detector's `push`, suppression included (process time).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

from bridge.audio.phone import FRAME_MS, PCM_FRAME
from bridge.audio.turns import SpeechStarted, TurnDropped, TurnEnded
from bridge.audio.vad import PREROLL_MS, TAIL_MS, TurnDetector
from bridge.audio.voice import DETECTORS, FILTERS
from bridge.dialplan.models import TurnSettings
from bridge.speech_eval.corpus import CLIP_RATE, Clip, babble_talkers, read_clip
from bridge.speech_eval.phone_line import Noise, babble_from, phone_line

LEAD_S = 3.0
TAIL_S = 1.5
SPEECH_DB = 35.0
# Front ends to compare: (name, the turn settings it changes).
FRONT_ENDS: dict[str, dict[str, str]] = {
    "webrtc": {"vad": "webrtc"},
    "silero": {"vad": "silero"},
    "webrtc+rnnoise": {"vad": "webrtc", "noise_suppression": "rnnoise"},
    "silero+rnnoise": {"vad": "silero", "noise_suppression": "rnnoise"},
}


class VadScore(BaseModel):
    front_end: str
    noise: str
    snr_db: float | None
    onset_p50_ms: float | None
    onset_p95_ms: float | None
    false_per_min: float
    missed: int
    speech_lost: float
    cpu_us_per_frame: float
    clips: int


def _speech_frames(clean: bytes) -> np.ndarray:
    """Per 20 ms frame of the clean line: is it speech (within SPEECH_DB of the loudest)?"""
    samples = np.frombuffer(clean, dtype="<i2").astype(np.float64)
    frames = samples[: samples.size // (PCM_FRAME // 2) * (PCM_FRAME // 2)].reshape(
        -1, PCM_FRAME // 2
    )
    power = np.mean(frames**2, axis=1)
    return power >= power.max() * 10 ** (-SPEECH_DB / 10)


def _padded(audio: np.ndarray) -> np.ndarray:
    lead = np.zeros(int(LEAD_S * CLIP_RATE), dtype=audio.dtype)
    tail = np.zeros(int(TAIL_S * CLIP_RATE), dtype=audio.dtype)
    return np.concatenate((lead, audio, tail))


def _listen(
    turns: TurnSettings, line: bytes, speech: np.ndarray
) -> tuple[list[int], int, np.ndarray, float]:
    """(SpeechStarted frames, frames pushed, frames inside a kept turn's audio, CPU s)."""
    detector = TurnDetector(turns)
    starts: list[int] = []
    kept = np.zeros(speech.size, dtype=bool)
    count = min(speech.size, len(line) // PCM_FRAME)
    cpu = time.process_time()
    events = [detector.push(line[i * PCM_FRAME : (i + 1) * PCM_FRAME]) for i in range(count)]
    cpu = time.process_time() - cpu
    open_from: int | None = None  # first frame of the audio of a turn still open
    for index, event in enumerate(events):
        if isinstance(event, SpeechStarted):
            starts.append(index)
            open_from = index + 1 - (turns.onset_ms + PREROLL_MS) // FRAME_MS
        elif isinstance(event, TurnEnded | TurnDropped):
            open_from = None
            if isinstance(event, TurnEnded):
                end_ms = event.at_ms - event.silence_ms
                first = (end_ms - event.duration_ms - PREROLL_MS) // FRAME_MS
                kept[max(0, first) : (end_ms + TAIL_MS) // FRAME_MS] = True
    if open_from is not None:  # a turn the line's noise holds open: its audio so far counts
        kept[max(0, open_from) :] = True
    return starts, count, kept, cpu


def score_front_end(
    name: str,
    turns: TurnSettings,
    lines: dict[str, tuple[bytes, bytes]],
    noise: str,
    snr_db: float,
) -> VadScore:
    """One front end on every clip's (clean, noisy) line."""
    onsets: list[float] = []
    false_starts, noise_frames, missed, lost, total, frames, cpu = 0, 0, 0, 0, 0, 0, 0.0
    for clean, noisy in lines.values():
        speech = _speech_frames(clean)
        first, last = int(np.argmax(speech)), int(speech.size - 1 - np.argmax(speech[::-1]))
        starts, pushed, kept, seconds = _listen(turns, noisy, speech)
        frames += pushed
        cpu += seconds
        outside = [s for s in starts if s < first or s > last + 1]
        false_starts += len(outside)
        noise_frames += first + max(0, pushed - last - 1)
        inside = [s for s in starts if first <= s <= last + 1]
        if inside:
            onsets.append((inside[0] - first + 1) * FRAME_MS)
        heard = kept[first : last + 1] & speech[first : last + 1]
        spoken = int(speech[first : last + 1].sum())
        missed += not heard.any()
        lost += spoken - int(heard.sum())
        total += spoken
    minutes = noise_frames * FRAME_MS / 60_000
    return VadScore(
        front_end=name,
        noise=noise,
        snr_db=None if noise == "clean" else snr_db,
        onset_p50_ms=statistics.median(onsets) if onsets else None,
        onset_p95_ms=float(np.percentile(onsets, 95)) if onsets else None,
        false_per_min=round(false_starts / minutes, 2) if minutes else 0.0,
        missed=missed,
        speech_lost=round(lost / total, 4) if total else 0.0,
        cpu_us_per_frame=round(cpu / frames * 1e6, 1) if frames else 0.0,
        clips=len(lines),
    )


def vad_lines(clips: list[Clip], noise: Noise, snr_db: float) -> dict[str, tuple[bytes, bytes]]:
    """Every clip, padded with nothing, as (clean line, line with `noise`)."""
    audio = {clip.id: _padded(read_clip(clip)) for clip in clips}
    lines = {}
    for n, clip in enumerate(clips):
        babble = None
        if noise == "babble":
            babble = babble_from([read_clip(c) for c in babble_talkers(clips, clip)], CLIP_RATE)
        clean = phone_line(audio[clip.id], CLIP_RATE, "clean")
        noisy = (
            clean
            if noise == "clean"
            else phone_line(audio[clip.id], CLIP_RATE, noise, snr_db, seed=n, babble=babble)
        )
        lines[clip.id] = (clean, noisy)
    return lines


def run_vad(
    clips: list[Clip],
    turns: TurnSettings,
    front_ends: list[str],
    noises: list[Noise],
    snrs: list[float],
    progress: Callable[[VadScore], None] = lambda _: None,
) -> list[VadScore]:
    """Every front end under every condition. A detector or suppressor that is not installed
    raises VoiceModelMissing here (the turn detector itself would quietly use webrtcvad)."""
    chosen = {name: turns.model_copy(update=FRONT_ENDS[name]) for name in front_ends}
    for settings in chosen.values():
        DETECTORS[settings.vad](settings)
        if settings.noise_suppression != "off":
            FILTERS[settings.noise_suppression](settings)
    scores = []
    for noise in noises:
        for snr in [0.0] if noise == "clean" else snrs:
            lines = vad_lines(clips, noise, snr)
            for name, settings in chosen.items():
                score = score_front_end(name, settings, lines, noise, snr)
                progress(score)
                scores.append(score)
    return scores
