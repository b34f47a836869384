"""The turn detector on a real spoken sentence (piper's voice, brought down to 8 kHz)."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.audio.phone import PCM_FRAME
from bridge.audio.turns import SpeechStarted, TurnDropped, TurnEnded, TurnEvent
from bridge.audio.vad import TurnDetector
from bridge.dialplan.models import TurnSettings

pytestmark = pytest.mark.models

LEAD_MS, TRAIL_MS = 1000, 1500


def _on_a_line(speech: bytes, noise_rms: float) -> bytes:
    """The sentence between stretches of silence, with the line's background hiss."""
    samples = np.concatenate(
        [np.zeros(LEAD_MS * 8), np.frombuffer(speech, dtype="<i2"), np.zeros(TRAIL_MS * 8)]
    )
    samples = samples + np.random.default_rng(3).normal(0, noise_rms, len(samples))
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def _events(audio: bytes, settings: TurnSettings) -> list[TurnEvent]:
    detector = TurnDetector(settings)
    starts = range(0, len(audio) - PCM_FRAME + 1, PCM_FRAME)
    pushed = (detector.push(audio[i : i + PCM_FRAME]) for i in starts)
    return [event for event in pushed if event is not None]


@pytest.mark.parametrize("aggressiveness", [0, 1, 2, 3])
@pytest.mark.parametrize("noise_rms", [0, 60])
def test_a_spoken_sentence_is_one_whole_turn(
    spoken_sentence_8k: bytes, aggressiveness: int, noise_rms: float
):
    audio = _on_a_line(spoken_sentence_8k, noise_rms)
    events = _events(audio, TurnSettings(vad_aggressiveness=aggressiveness))

    assert isinstance(events[0], SpeechStarted)
    assert LEAD_MS < events[0].at_ms < LEAD_MS + 300  # onset heard at the first word
    assert [type(e) for e in events].count(SpeechStarted) == 1
    assert not any(isinstance(e, TurnDropped) for e in events)
    ended = events[-1]
    assert isinstance(ended, TurnEnded)
    assert ended.reason == "silence"

    # The turn's audio is one stretch of the line that holds (nearly) all the speech energy:
    # the pre-roll caught the first syllable, and the tail did not cut the last one.
    start = audio.find(ended.audio)
    assert start % PCM_FRAME == 0
    speech = np.frombuffer(spoken_sentence_8k, dtype="<i2").astype(np.float64)
    kept = np.frombuffer(ended.audio, dtype="<i2").astype(np.float64)
    assert np.sum(kept**2) >= 0.99 * np.sum(speech**2)
    # ...and not much of the silence around it.
    assert len(ended.audio) < len(spoken_sentence_8k) + 400 * 16
    assert ended.duration_ms <= len(spoken_sentence_8k) // 16
