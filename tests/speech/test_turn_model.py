"""Smart Turn from the file in pipecat-ai's wheel, run on our own features and onnxruntime."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from bridge.audio.mel import HOP, log_mel
from bridge.speech import turn_model
from bridge.speech.pool import ModelWorkerPool
from bridge.speech.turn_model import (
    FRAMES,
    SmartTurn,
    TurnModelUnavailable,
    bundled_model_path,
    features,
)


def test_without_pipecat_the_model_is_reported_unavailable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(turn_model.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(TurnModelUnavailable, match="pip install --no-deps pipecat-ai"):
        bundled_model_path()


def test_our_log_mel_features_equal_the_reference_extractor_shipped_beside_the_model():
    reference_file = bundled_model_path().parents[1] / "_whisper_features.py"
    spec = importlib.util.spec_from_file_location("reference_features", reference_file)
    assert spec is not None and spec.loader is not None
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    rng = np.random.default_rng(3)
    audio = np.zeros(FRAMES * HOP, dtype=np.float32)
    audio[60_000:] = rng.normal(0, 0.1, FRAMES * HOP - 60_000) * np.sin(np.arange(68_000) / 90)

    expected = reference.compute_whisper_log_mel_features(audio, do_normalize=True)
    np.testing.assert_allclose(log_mel(audio, FRAMES), expected, atol=1e-5)


def test_features_keep_the_last_8_seconds_padded_in_front():
    short = features(np.full(8000, 1000, dtype="<i2").tobytes(), 8000)
    long = features(np.full(8000 * 12, 1000, dtype="<i2").tobytes(), 8000)
    assert short.shape == long.shape == (1, 80, FRAMES)
    assert short[0, :, 0].tolist() != short[0, :, -50].tolist()  # silence, then the signal


@pytest.mark.models
async def test_smart_turn_gives_a_probability_for_phone_audio():
    model = SmartTurn(ModelWorkerPool(1, 4, name="turn-test"))
    try:
        t = np.arange(8000 * 2) / 8000
        buzz = (3000 * np.sin(2 * np.pi * 140 * t)).astype("<i2").tobytes()
        probability = await model.complete(buzz, 8000)
    finally:
        model.close()
    assert 0.0 <= probability <= 1.0


@pytest.mark.parametrize("lead", [0, 399, 400, 600, 1000, 96_000, 127_000])
def test_padding_frames_computed_once_equal_the_full_computation(lead: int):
    rng = np.random.default_rng(lead)
    audio = np.zeros(FRAMES * HOP, dtype=np.float32)
    audio[lead:] = rng.normal(0, 0.2, FRAMES * HOP - lead)
    np.testing.assert_array_equal(log_mel(audio, FRAMES, lead), log_mel(audio, FRAMES))
