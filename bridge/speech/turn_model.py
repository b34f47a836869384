"""Smart Turn v3: does the caller's audio so far sound like a finished thought?

An ONNX audio classifier (Whisper-tiny encoder, BSD-2, about 8 MB) that reads the last 8 s of
a turn as 16 kHz log-mel features and gives the probability the speaker is done. The model
file ships inside the `pipecat-ai` wheel; we read the file only (pipecat's code, and its
dependencies, are not needed: `pip install --no-deps pipecat-ai`). Runs on its own
one-thread pool so a verdict never waits behind transcription.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bridge.audio.mel import HOP, MEL_RATE, log_mel
from bridge.audio.resample import resample
from bridge.speech.pool import ModelWorkerPool, PoolStats

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger(__name__)

WINDOW_S = 8  # the model reads the last 8 s, silence-padded in front
FRAMES = WINDOW_S * MEL_RATE // HOP  # 800 feature frames
MODEL_GLOB = "smart-turn-v3*-cpu.onnx"
MODEL_DIR = ("audio", "turn", "smart_turn", "data")


class TurnModelUnavailable(RuntimeError):
    """No Smart Turn model file is installed (or it would not load)."""


def bundled_model_path() -> Path:
    """The newest Smart Turn v3 CPU model in the installed `pipecat-ai` wheel.

    Found without importing pipecat (its package init needs its own dependencies).
    """
    spec = importlib.util.find_spec("pipecat")
    locations = list(spec.submodule_search_locations or []) if spec else []
    found = sorted(path for root in locations for path in Path(root, *MODEL_DIR).glob(MODEL_GLOB))
    if not found:
        raise TurnModelUnavailable(
            "no Smart Turn model: install it with `pip install --no-deps pipecat-ai`"
        )
    return found[-1]


def features(pcm16: bytes, sample_rate: int) -> np.ndarray:
    """(1, 80, 800) model input: the last 8 s at 16 kHz, zero-padded in front."""
    pcm = resample(pcm16, sample_rate, MEL_RATE)
    audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    size = FRAMES * HOP
    audio = audio[-size:]
    lead = size - audio.size
    if lead:
        audio = np.pad(audio, (lead, 0))
    return log_mel(audio, FRAMES, lead)[np.newaxis]


class SmartTurn:
    """`TurnModel`: the probability that a turn's audio ends a complete thought."""

    def __init__(self, pool: ModelWorkerPool, model_path: Path | None = None) -> None:
        self._pool = pool
        self._path = model_path
        self._session: onnxruntime.InferenceSession | None = None
        self._lock = threading.Lock()

    async def load(self) -> None:
        """Load the model now, in the pool (else the first `complete` does)."""
        if self._session is None:
            await self._pool.run(self._load_sync)

    async def complete(self, pcm16: bytes, sample_rate: int) -> float:
        """P(the speaker has finished) for a turn's audio (any rate; 8 kHz phone audio is
        upsampled)."""
        return await self._pool.run(self._predict_sync, pcm16, sample_rate)

    def stats(self) -> PoolStats:
        """Its pool's figures: verdicts asked for, run times, the ones refused."""
        return self._pool.stats()

    def close(self) -> None:
        """Stop its pool (a verdict still running finishes in its thread)."""
        self._pool.close()

    def _load_sync(self) -> onnxruntime.InferenceSession:
        with self._lock:
            if self._session is None:
                import onnxruntime

                path = self._path or bundled_model_path()
                options = onnxruntime.SessionOptions()
                # One thread: the verdict is ~tens of ms and the cores belong to the calls.
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
                try:
                    self._session = onnxruntime.InferenceSession(
                        str(path), sess_options=options, providers=["CPUExecutionProvider"]
                    )
                except Exception as error:  # onnxruntime raises its own untyped errors
                    raise TurnModelUnavailable(f"Smart Turn model {path}: {error}") from error
                log.info("turn model loaded: %s", path.name)
            return self._session

    def _predict_sync(self, pcm16: bytes, sample_rate: int) -> float:
        session = self._load_sync()
        (probability,) = session.run(None, {"input_features": features(pcm16, sample_rate)})
        return float(np.asarray(probability).reshape(-1)[0])
