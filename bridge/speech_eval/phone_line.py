"""A clip as a caller's phone would send it: 300-3400 Hz, 8 kHz mu-law, noise at a set SNR."""

from __future__ import annotations

from typing import Literal

import numpy as np
import soxr
from scipy.signal import butter, sosfilt

from bridge.audio.codec import pcm16_to_ulaw, ulaw_to_pcm16
from bridge.audio.phone import PCM_FRAME, PHONE_RATE
from bridge.audio.voice import FILTERS
from bridge.dialplan.models import TurnSettings

BAND_HZ = (300.0, 3400.0)
Noise = Literal["clean", "white", "babble"]
# The line's band filter: 4th-order Butterworth band-pass, as telephone channels roughly are.
_BAND = butter(4, BAND_HZ, btype="bandpass", fs=PHONE_RATE, output="sos")
# Peak level of the speech before coding: well below clipping, like a handset's.
_PEAK = 0.5


def phone_line(
    audio: np.ndarray,
    rate: int,
    noise: Noise = "clean",
    snr_db: float = 10.0,
    seed: int = 0,
    babble: np.ndarray | None = None,
) -> bytes:
    """Float samples at `rate` in; the PCM16 the bridge decodes from the caller's mu-law out.

    The network's own conversion to 8 kHz is a clean one (soxr), so what is measured is the
    bridge's front end, not an artefact of the simulation.
    """
    line = soxr.resample(audio.astype(np.float64), rate, PHONE_RATE, quality="VHQ")
    line = sosfilt(_BAND, line)
    line *= _PEAK / max(float(np.max(np.abs(line))), 1e-9)
    if noise != "clean":
        line = line + _noise(line, noise, snr_db, seed, babble)
    line = np.clip(line, -1.0, 32767 / 32768)
    pcm16 = (line * 32768).astype("<i2").tobytes()
    return ulaw_to_pcm16(pcm16_to_ulaw(pcm16))


def speech_power(line: np.ndarray) -> float:
    """Mean power of the voiced part (20 ms frames within 30 dB of the loudest)."""
    frames = line[: len(line) // 160 * 160].reshape(-1, 160)
    power = np.mean(frames**2, axis=1)
    active = power[power >= power.max() * 10 ** (-30 / 10)]
    return float(np.mean(active))


def _noise(
    line: np.ndarray, kind: Noise, snr_db: float, seed: int, babble: np.ndarray | None
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "white":
        noise = rng.standard_normal(len(line))
    else:
        if babble is None or not len(babble):
            raise ValueError("babble noise needs other speech to mix")
        start = int(rng.integers(0, len(babble)))
        noise = np.resize(np.roll(babble, -start), len(line))
    noise = sosfilt(_BAND, noise)
    scale = np.sqrt(speech_power(line) / (np.mean(noise**2) * 10 ** (snr_db / 10)))
    return noise * scale


def babble_from(voices: list[np.ndarray], rate: int, talkers: int = 4) -> np.ndarray:
    """Several talkers at once (other clips, offset and summed), at the phone rate."""
    if not voices:
        return np.zeros(0)
    speech = np.concatenate([soxr.resample(v.astype(np.float64), rate, PHONE_RATE) for v in voices])
    mix = sum(np.roll(speech, k * len(speech) // talkers) for k in range(talkers))
    return np.asarray(mix)


def suppressed(line: bytes, suppression: str = "off") -> bytes:
    """The line after `turns.noise_suppression` ("off": as it is), run 20 ms at a time as the
    turn detector runs it with `suppress_for: vad_and_stt` (the last part frame padded with
    silence). A suppressor that is not installed raises VoiceModelMissing: a benchmark must
    not quietly measure "off" instead."""
    if suppression == "off":
        return line
    denoiser = FILTERS[suppression](TurnSettings.model_validate({"noise_suppression": suppression}))
    padded = line + bytes(-len(line) % PCM_FRAME)
    return b"".join(
        denoiser.process(padded[i : i + PCM_FRAME]) for i in range(0, len(padded), PCM_FRAME)
    )
