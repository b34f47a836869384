"""espeak-ng's own voices, from the libespeak-ng and data the `espeakng-loader` wheel ships.

A formant synthesizer: robotic, but it speaks every language espeak-ng has rules for, and
costs next to nothing (a sentence in a few milliseconds). No PyPI package ships a Spanish
neural voice; over the phone line the recogniser makes out more of espeak-ng's Spanish than
of the English piper voice reading Spanish (`python -m bridge.speech_eval.spoken_language`).
"""

from __future__ import annotations

import ctypes
import importlib.util
import threading
from collections.abc import AsyncIterator

import numpy as np

from bridge.speech.pool import ModelWorkerPool

_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: espeak_Synth returns when all audio is made
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE = 1  # espeakRATE, words per minute
_DEFAULT_WPM = 175
# What espeak-ng's synthesizer makes (espeak_Initialize returns it; checked there). Known
# without loading the library, so a call reading `sample_rate` never blocks the event loop.
SAMPLE_RATE = 22_050
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


def espeak_available() -> bool:
    """Whether the `espeak` extra (espeakng-loader) is installed."""
    return importlib.util.find_spec("espeakng_loader") is not None


class _Library:
    """The one libespeak-ng of the process: global state, so one synthesis at a time."""

    _instance: _Library | None = None
    _create = threading.Lock()

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        rate = self._lib.espeak_Initialize(_SYNCHRONOUS, 0, data, 0)
        if rate != SAMPLE_RATE:
            raise RuntimeError(f"espeak-ng did not initialise at {SAMPLE_RATE} Hz (got {rate})")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # kept: the library holds a pointer to it
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()

    @classmethod
    def get(cls) -> _Library:
        with cls._create:
            if cls._instance is None:
                cls._instance = _Library()
            return cls._instance

    def _collect(self, wav: ctypes.Array[ctypes.c_short], samples: int, _events: object) -> int:
        if samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (samples,)).copy())
        return 0  # go on

    def synthesize(self, text: str, voice: str, wpm: int) -> bytes:
        """PCM16 of `text` in espeak-ng's `voice` (blocking: call from a worker thread)."""
        with self._lock:
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"espeak-ng has no voice {voice!r}")
            self._lib.espeak_SetParameter(_RATE, wpm, 0)
            self._chunks = []
            data = text.encode()
            self._lib.espeak_Synth(
                data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            chunks, self._chunks = self._chunks, []
        return b"".join(chunk.astype("<i2").tobytes() for chunk in chunks)


class EspeakTTS:
    """`TextToSpeech` in espeak-ng's voice for `voice` ("es", "es-419", ...) on the pool."""

    def __init__(self, pool: ModelWorkerPool, voice: str, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._pool = pool
        self._voice = voice
        self._wpm = round(_DEFAULT_WPM * speed)

    @property
    def pronounce(self) -> str:
        return self._voice

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    async def load(self) -> None:
        await self._pool.run(_Library.get)

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        if not text.strip():
            return
        library = await self._pool.run(_Library.get)
        yield await self._pool.run(library.synthesize, text, self._voice, self._wpm)
