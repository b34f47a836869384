"""Silero VAD (v5/v6, MIT) on onnxruntime: the probability that a stretch of 8 kHz audio is voice.

The model file ships inside the `silero-vad` wheel, which declares torch; we read the file only
(`pip install --no-deps silero-vad`), as with the turn-end model. Its `silero_vad.onnx` takes
8 kHz in windows of 256 samples (32 ms) with the previous window's last 32 samples in front,
plus a (2, 1, 128) recurrent state (see `OnnxWrapper` in the wheel's `utils_vad.py`); the
`*16k*` files are 16 kHz only. Twilio frames are 160 samples, so samples wait until a window
is full and each frame gets the verdict of the newest window (5 windows per 8 frames).

One InferenceSession for the process (one thread, thread-safe `run`); each call keeps its own
state. Loading it takes tens of milliseconds, once, on first use.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bridge.audio.voice import VoiceModelMissing

if TYPE_CHECKING:
    import onnxruntime

WINDOW = 256  # samples a model run reads at 8 kHz
CONTEXT = 32  # samples of the previous window put in front of each
MODEL_FILE = ("data", "silero_vad.onnx")
# Speech holds while the probability stays above threshold - HYSTERESIS (Silero's own rule).
HYSTERESIS = 0.15
_RATE = np.array(8000, dtype=np.int64)


def bundled_model_path() -> Path:
    """`silero_vad.onnx` in the installed wheel, found without importing it (it imports torch)."""
    spec = importlib.util.find_spec("silero_vad")
    for root in list(spec.submodule_search_locations or []) if spec else []:
        path = Path(root, *MODEL_FILE)
        if path.is_file():
            return path
    raise VoiceModelMissing(
        "no Silero VAD model: install it with `pip install --no-deps silero-vad`"
    )


@functools.cache
def _session() -> onnxruntime.InferenceSession:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # One thread: a run is ~0.1 ms and the cores belong to the calls.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(
        str(bundled_model_path()), sess_options=options, providers=["CPUExecutionProvider"]
    )


class SileroVoice:
    """`VoiceDetector`: voice while Silero's probability is over `threshold`."""

    def __init__(self, threshold: float = 0.5) -> None:
        self._session = _session()
        self._threshold = threshold
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._input = np.zeros((1, CONTEXT + WINDOW), dtype=np.float32)
        self._filled = CONTEXT  # samples in _input: context, then the window being filled
        self._speech = False
        self.probability = 0.0  # the newest window's

    def is_speech(self, frame: bytes) -> bool:
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
        while samples.size:
            take = min(samples.size, CONTEXT + WINDOW - self._filled)
            self._input[0, self._filled : self._filled + take] = samples[:take]
            self._filled += take
            samples = samples[take:]
            if self._filled == CONTEXT + WINDOW:
                self._run()
        return self._speech

    def _run(self) -> None:
        probability, self._state = self._session.run(
            None, {"input": self._input, "state": self._state, "sr": _RATE}
        )
        self.probability = float(probability[0, 0])
        floor = self._threshold - HYSTERESIS if self._speech else self._threshold
        self._speech = self.probability >= floor
        self._input[0, :CONTEXT] = self._input[0, -CONTEXT:]
        self._filled = CONTEXT
