"""What `TurnWhisper` saves per turn: the decoder of an abandoned turn, the second encoder pass
of language detection. CTranslate2 (the vendor below faster-whisper) is wrapped to count its
calls; everything above it is the real code."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bridge.audio.wav import read_wav_mono
from bridge.speech.models import resolve_model
from bridge.speech.whisper_model import Abandoned, TurnWhisper, keep_freed_memory
from bridge.speech.whisper_stt import WHISPER_MAX_LENGTH, max_new_tokens

SPANISH = Path(__file__).parent / "data" / "es-conteo.wav"


class CountingCT2:
    """The CTranslate2 Whisper, counting encoder passes and decodes."""

    def __init__(self, inner: Any, after_encode: Callable[[], None] = lambda: None) -> None:
        self._inner = inner
        self._after_encode = after_encode
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def encode(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["encode"] += 1
        output = self._inner.encode(*args, **kwargs)
        self._after_encode()
        return output

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["generate"] += 1
        return self._inner.generate(*args, **kwargs)


def _load(name: str) -> TurnWhisper:
    return TurnWhisper(str(resolve_model(name)), device="cpu", compute_type="int8", cpu_threads=2)


def _spanish() -> np.ndarray:
    return np.frombuffer(read_wav_mono(SPANISH, 16_000), dtype="<i2").astype(np.float32) / 32768


def _decode(model: TurnWhisper, abandoned: threading.Event, language: str | None) -> str:
    with model.job(abandoned):
        segments, _ = model.transcribe(
            _spanish(), language=language, beam_size=1, temperature=0.0, without_timestamps=True
        )
        return " ".join(s.text for s in segments)


@pytest.mark.models
def test_a_turn_abandoned_during_the_encoder_is_never_decoded() -> None:
    model = _load("tiny.en")
    abandoned = threading.Event()
    ct2 = CountingCT2(model.model, after_encode=abandoned.set)  # the caller spoke on meanwhile
    model.model = ct2

    with pytest.raises(Abandoned):
        _decode(model, abandoned, "en")
    assert ct2.calls == {"encode": 1}

    # Abandoned before its worker got to it: not even the encoder runs.
    with pytest.raises(Abandoned):
        _decode(model, abandoned, "en")
    assert ct2.calls == {"encode": 1}

    # The next turn decodes as usual.
    ct2._after_encode = lambda: None
    assert _decode(model, threading.Event(), "en")
    assert ct2.calls == {"encode": 2, "generate": 1}


@pytest.mark.models
def test_detecting_the_language_and_decoding_share_one_encoder_pass() -> None:
    model = _load("base")
    ct2 = CountingCT2(model.model)
    model.model = ct2

    with model.job(threading.Event()):
        segments, info = model.transcribe(
            _spanish(), language=None, beam_size=1, temperature=0.0, without_timestamps=True
        )
        text = " ".join(s.text for s in segments)

    assert info.language == "es"
    assert "3" in text
    assert ct2.calls == {"encode": 1, "generate": 1}


def test_freed_memory_is_kept_on_glibc() -> None:
    assert keep_freed_memory()
    assert keep_freed_memory()  # once per process; asking again changes nothing


def test_a_turn_may_decode_three_times_fast_speech_and_never_past_the_models_length() -> None:
    # Fast speech is about 4 tokens a second, timestamps included.
    assert all(max_new_tokens(s) >= 3 * 4 * s for s in (0.5, 1, 2, 5, 10))
    assert max_new_tokens(2) < 100  # a loop in a short turn stops long before 448 tokens
    longest_prompt = 1 + (WHISPER_MAX_LENGTH // 2 - 1) + 3  # sot_prev, prompt, sot sequence
    assert max_new_tokens(60) + longest_prompt <= WHISPER_MAX_LENGTH
