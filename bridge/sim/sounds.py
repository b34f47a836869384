"""Caller-side sounds that are not a line to answer: coughs, line noise, pauses in a line.

All 8 kHz mono PCM16. Seeded, so a scenario plays the same sound on every run.
"""

from __future__ import annotations

import re

import numpy as np

from bridge.audio.resample import resample
from bridge.speech.base import TextToSpeech

PHONE_RATE = 8000
# "[pause 1200ms]" inside a line: the caller stops for that long mid-sentence.
PAUSE = re.compile(r"\[pause\s+(\d+)\s*ms\]")
COUGH_MS = 170
NOISE_RMS = 900  # loud enough that the VAD's level gate cannot simply ignore it


def split_pauses(text: str) -> list[str | int]:
    """The line's words and its pauses in order: ["My order is", 1200, "4 5 7 2."]."""
    parts: list[str | int] = []
    for index, piece in enumerate(PAUSE.split(text)):
        if index % 2:
            parts.append(int(piece))
        elif piece.strip():
            parts.append(piece.strip())
    return parts


def silence(ms: int) -> bytes:
    return bytes(PHONE_RATE * ms // 1000 * 2)


def cough(ms: int = COUGH_MS, seed: int = 1) -> bytes:
    """A burst of voiced noise with a sharp attack and a fast decay."""
    rng = np.random.default_rng(seed)
    n = PHONE_RATE * ms // 1000
    t = np.arange(n) / PHONE_RATE
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-t / (ms / 1000 / 3))
    voiced = np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 360 * t)
    signal = envelope * (6000 * rng.normal(0, 1, n) + 4000 * voiced)
    return _pcm(signal)


def noise(ms: int, rms: float = NOISE_RMS, seed: int = 2) -> bytes:
    """Line noise: pink-ish hiss (white noise through a one-pole low-pass)."""
    rng = np.random.default_rng(seed)
    white = rng.normal(0, 1, PHONE_RATE * ms // 1000)
    pink = np.empty_like(white)
    level = 0.0
    for index, sample in enumerate(white):
        level = 0.9 * level + sample
        pink[index] = level
    pink *= rms / max(1e-9, float(np.sqrt(np.mean(pink**2))))
    return _pcm(pink)


def beep(ms: int = 500, hz: float = 1000.0) -> bytes:
    """An answering machine's tone, after a short gap that ends its greeting."""
    t = np.arange(PHONE_RATE * ms // 1000) / PHONE_RATE
    return silence(300) + _pcm(8000 * np.sin(2 * np.pi * hz * t))


def mix(*tracks: bytes, gain: float = 1.0) -> bytes:
    """Tracks played together from their start (babble: several voices at once)."""
    arrays = [np.frombuffer(track, dtype="<i2").astype(np.float64) for track in tracks]
    out = np.zeros(max(len(a) for a in arrays))
    for array in arrays:
        out[: len(array)] += array
    return _pcm(out * gain)


def _pcm(signal: np.ndarray) -> bytes:
    return np.clip(signal, -32768, 32767).astype("<i2").tobytes()


async def line_audio(tts: TextToSpeech, text: str) -> bytes:
    """A caller's line synthesized at 8 kHz, with its "[pause Nms]" as silence."""
    pieces = []
    for part in split_pauses(text):
        if isinstance(part, int):
            pieces.append(silence(part))
        else:
            chunks = [pcm async for pcm in tts.synthesize(part)]
            pieces.append(resample(b"".join(chunks), tts.sample_rate, PHONE_RATE))
    return b"".join(pieces)


async def overlay_audio(tts: TextToSpeech, sound: str, ms: int) -> bytes:
    """ "cough", "noise" or "babble" (`ms` long), else the words of a backchannel."""
    if sound == "cough":
        return cough()
    if sound == "noise":
        return noise(ms)
    if sound == "babble":
        voices = [
            await line_audio(tts, "I told him the car was parked outside the bakery."),
            await line_audio(tts, "No, the meeting moved to Thursday afternoon."),
        ]
        babble = mix(voices[0], silence(400) + voices[1], gain=0.5)
        size = PHONE_RATE * ms // 1000 * 2
        return (babble * (1 + size // max(1, len(babble))))[:size]
    return await line_audio(tts, sound)
