"""The turn detector's voice detectors and noise suppression, chosen by the dialplan's name."""

from __future__ import annotations

import importlib.util
import logging

import numpy as np
import pytest

from bridge.audio import rnnoise, silero, voice
from bridge.audio.phone import PCM_FRAME
from bridge.audio.turns import SpeechStarted, TurnEnded
from bridge.audio.vad import TurnDetector
from bridge.audio.voice import WebrtcVoice, frame_filter, voice_detector, warm_up
from bridge.dialplan.models import TurnSettings

_find_spec = importlib.util.find_spec


@pytest.fixture
def nothing_installed(monkeypatch: pytest.MonkeyPatch):
    """As if neither silero-vad nor pyrnnoise were installed."""
    silero._session.cache_clear()
    rnnoise._library.cache_clear()
    voice._warned.clear()  # each missing model is warned about once a process
    hidden = {"silero_vad", "pyrnnoise"}
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in hidden else _find_spec(name)
    )
    yield
    silero._session.cache_clear()
    rnnoise._library.cache_clear()


def _frames(samples: np.ndarray) -> list[bytes]:
    pcm = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    return [pcm[i : i + PCM_FRAME] for i in range(0, len(pcm) - PCM_FRAME + 1, PCM_FRAME)]


def _rms(frames: list[bytes]) -> float:
    samples = np.frombuffer(b"".join(frames), dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2)))


def test_webrtc_is_the_default_and_suppression_is_off():
    settings = TurnSettings()
    assert isinstance(voice_detector(settings), WebrtcVoice)
    assert frame_filter(settings) is None


def test_a_model_that_is_not_installed_falls_back_with_a_warning(
    nothing_installed: None, caplog: pytest.LogCaptureFixture
):
    settings = TurnSettings(vad="silero", noise_suppression="rnnoise")
    with caplog.at_level(logging.WARNING):
        warm_up([settings, TurnSettings()])  # at startup: what is missing is said once
        assert isinstance(voice_detector(settings), WebrtcVoice)
        assert frame_filter(settings) is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("pip install --no-deps silero-vad" in w for w in warnings)
    assert any("pip install --no-deps pyrnnoise" in w for w in warnings)
    # The detector built from those settings still finds turns, on webrtcvad.
    detector = TurnDetector(settings)
    assert detector.push(bytes(PCM_FRAME)) is None


def test_the_dialplan_rejects_an_unknown_detector():
    with pytest.raises(ValueError, match="vad"):
        TurnSettings.model_validate({"vad": "energy"})
    with pytest.raises(ValueError, match="noise_suppression"):
        TurnSettings.model_validate({"noise_suppression": "on"})


@pytest.mark.models
def test_silero_hears_a_spoken_sentence_as_one_turn_and_hiss_as_nothing(
    spoken_sentence_8k: bytes,
):
    rng = np.random.default_rng(5)
    speech = np.frombuffer(spoken_sentence_8k, dtype="<i2").astype(np.float64)
    line = np.concatenate([np.zeros(8000), speech, np.zeros(12000)])
    line += rng.normal(0, 300, line.size)  # hiss about 25 dB under the voice
    detector = TurnDetector(TurnSettings(vad="silero"))
    events = [e for e in (detector.push(f) for f in _frames(line)) if e is not None]
    starts = [e for e in events if isinstance(e, SpeechStarted)]
    ends = [e for e in events if isinstance(e, TurnEnded)]
    assert len(starts) == 1 and len(ends) == 1
    assert starts[0].at_ms >= 1000  # not during the second of hiss before the sentence
    assert ends[0].duration_ms >= len(speech) // 8 * 0.7


@pytest.mark.models
def test_rnnoise_keeps_frames_whole_and_takes_the_hiss_out(spoken_sentence_8k: bytes):
    rng = np.random.default_rng(7)
    hiss = rng.normal(0, 1000, 8000 * 2)
    speech = np.frombuffer(spoken_sentence_8k, dtype="<i2").astype(np.float64)
    suppressor = frame_filter(TurnSettings(noise_suppression="rnnoise"))
    assert suppressor is not None
    hiss_out = [suppressor.process(f) for f in _frames(hiss)]
    speech_in = _frames(speech + rng.normal(0, 1000, speech.size))
    speech_out = [suppressor.process(f) for f in speech_in]
    assert all(len(frame) == PCM_FRAME for frame in hiss_out + speech_out)
    settled = hiss_out[25:]  # after half a second
    assert _rms(settled) < _rms(_frames(hiss[25 * 160 :])) / 5
    assert _rms(speech_out) > _rms(speech_in) / 3  # the voice stays


@pytest.mark.models
@pytest.mark.parametrize("suppress_for", ["vad", "vad_and_stt"])
def test_the_recogniser_hears_the_line_as_it_came_unless_asked(
    spoken_sentence_8k: bytes, suppress_for: str
):
    rng = np.random.default_rng(9)
    speech = np.frombuffer(spoken_sentence_8k, dtype="<i2").astype(np.float64)
    line = np.concatenate([np.zeros(8000), speech, np.zeros(12000)])
    frames = _frames(line + rng.normal(0, 300, line.size))
    settings = TurnSettings(noise_suppression="rnnoise", suppress_for=suppress_for)
    detector = TurnDetector(settings)
    ends = [e for e in map(detector.push, frames) if isinstance(e, TurnEnded)]
    assert len(ends) == 1
    as_it_came = ends[0].audio in b"".join(frames)
    assert as_it_came is (suppress_for == "vad")
