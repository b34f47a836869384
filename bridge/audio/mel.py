"""Whisper's log-mel features in numpy: what Smart Turn's encoder takes, without torch.

The same math as Whisper's feature extractor (Slaney mel scale, 400-point periodic Hann
window, hop 160, 80 bands, log10 clamped to 8 below the peak, then scaled to about [-1, 1]),
on 16 kHz audio normalised to zero mean and unit variance first, as Smart Turn was trained.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MEL_RATE = 16_000
N_FFT = 400
HOP = 160
N_MELS = 80


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney: linear below 1 kHz, logarithmic above."""
    mel = 3.0 * hz / 200.0
    above = hz >= 1000.0
    mel[above] = 15.0 + np.log(hz[above] / 1000.0) * (27.0 / np.log(6.4))
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    hz = 200.0 * mel / 3.0
    above = mel >= 15.0
    hz[above] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel[above] - 15.0))
    return hz


def _filterbank() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular filters, each normalised to unit area."""
    edges_mel = np.linspace(*_hz_to_mel(np.array([0.0, MEL_RATE / 2])), N_MELS + 2)
    edges = _mel_to_hz(edges_mel)
    bins = np.linspace(0, MEL_RATE // 2, N_FFT // 2 + 1)
    slopes = edges[np.newaxis, :] - bins[:, np.newaxis]
    widths = np.diff(edges)
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    filters *= 2.0 / (edges[2:] - edges[:-2])
    return filters.T


def _bands(filters: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """Each filter as (first bin, end bin, weights): a triangle spans at most ~14 bins."""
    bands = []
    for row in filters:
        used = np.flatnonzero(row)
        start, end = (int(used[0]), int(used[-1]) + 1) if used.size else (0, 0)
        bands.append((start, end, row[start:end].copy()))
    return bands


_WINDOW = np.hanning(N_FFT + 1)[:-1]  # periodic Hann, as torch.hann_window
_FILTERS = _filterbank()
# Applied band by band: the dense (80 x 201) product went through OpenBLAS, whose threads
# spun for 3x the work's CPU, on the cores Whisper was using at that very moment.
_BANDS = _bands(_FILTERS)


def _mel_power(power: np.ndarray) -> np.ndarray:
    """(N_MELS, frames) filterbank energies of (frames, bins) power spectra."""
    mel = np.zeros((N_MELS, power.shape[0]))
    for band, (start, end, weights) in enumerate(_BANDS):
        if end > start:
            mel[band] = power[:, start:end] @ weights
    return mel


def log_mel(audio: np.ndarray, frames: int, lead: int = 0) -> np.ndarray:
    """(N_MELS, frames) features of 16 kHz float audio exactly `frames * HOP` samples long.

    `lead`: how many samples at the start are the zero padding in front of a short turn.
    Every frame that sees only padding has the same spectrum, so it is computed once.
    """
    if audio.shape != (frames * HOP,):
        raise ValueError(f"expected {frames * HOP} samples, got {audio.shape}")
    x = audio.astype(np.float32)
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), N_FFT // 2, mode="reflect")
    windows = sliding_window_view(padded, N_FFT)[::HOP]
    # Frame i covers padded[i*HOP : i*HOP + N_FFT]; padding fills padded[: lead + N_FFT//2].
    same = max(0, min(frames, (lead + N_FFT // 2 - N_FFT) // HOP + 1)) if lead else 0
    if same > 1:
        windows = windows[same - 1 :]
    power = np.abs(np.fft.rfft(windows * _WINDOW, axis=-1)) ** 2
    if same > 1:
        power = np.concatenate([np.repeat(power[:1], same - 1, axis=0), power])
    mel = np.log10(np.maximum(1e-10, _mel_power(power)))[:, :frames]
    mel = np.maximum(mel, mel.max() - 8.0)
    return ((mel + 4.0) / 4.0).astype(np.float32)
