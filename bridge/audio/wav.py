"""WAV files in and out (stdlib `wave`). Blocking file I/O: call from a thread in async code."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from bridge.audio._audioop import audioop
from bridge.audio.codec import SAMPLE_WIDTH
from bridge.audio.resample import resample


def read_wav_mono(path: Path | str, sample_rate: int) -> bytes:
    """Any integer PCM WAV (8/16/24/32-bit, any channels, any rate) as mono PCM16 at
    `sample_rate`. Channels are averaged. Float WAVs raise `wave.Error`."""
    with wave.open(str(path), "rb") as wav:
        width = wav.getsampwidth()
        channels = wav.getnchannels()
        rate = wav.getframerate()
        data = wav.readframes(wav.getnframes())
    if width == 1:
        data = audioop.bias(data, 1, -128)  # 8-bit WAV is unsigned; audioop wants signed
    if width != SAMPLE_WIDTH:
        data = audioop.lin2lin(data, width, SAMPLE_WIDTH)
    if channels == 2:
        data = audioop.tomono(data, SAMPLE_WIDTH, 0.5, 0.5)
    elif channels > 2:
        samples = np.frombuffer(data, dtype="<i2").reshape(-1, channels)
        data = samples.mean(axis=1).round().astype("<i2").tobytes()
    return resample(data, rate, sample_rate)


def write_wav(path: Path | str, pcm16: bytes, sample_rate: int, channels: int = 1) -> None:
    """Writes PCM16 (interleaved when `channels` > 1) as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm16)


def interleave_stereo(left: bytes, right: bytes) -> bytes:
    """Two mono PCM16 tracks as one stereo stream; the shorter is padded with silence."""
    length = max(len(left), len(right))
    left = left.ljust(length, b"\0")
    right = right.ljust(length, b"\0")
    return audioop.add(
        audioop.tostereo(left, SAMPLE_WIDTH, 1, 0),
        audioop.tostereo(right, SAMPLE_WIDTH, 0, 1),
        SAMPLE_WIDTH,
    )
