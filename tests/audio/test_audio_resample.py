import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.audio.resample import Resampler, resample


def _tone(freq_hz: float, rate: int, seconds: float, amplitude: int = 8000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype("<i2").tobytes()


SOURCE = _tone(440, 22050, 0.5) + _tone(1000, 22050, 0.5)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=40))
def test_resampling_in_chunks_gives_exactly_the_one_shot_output(sample_counts: list[int]):
    resampler = Resampler(22050, 8000)
    pieces, start = [], 0
    for count in sample_counts:
        pieces.append(resampler.process(SOURCE[start : start + 2 * count]))
        start += 2 * count
    pieces.append(resampler.process(SOURCE[start:]))

    assert b"".join(pieces) == resample(SOURCE, 22050, 8000)


def test_a_tone_keeps_its_pitch_and_duration_across_rates():
    upsampled = np.frombuffer(resample(_tone(1000, 8000, 1.0), 8000, 16000), dtype="<i2")
    assert abs(len(upsampled) - 16000) <= 2
    rising_zero_crossings = np.sum((upsampled[:-1] < 0) & (upsampled[1:] >= 0))
    assert abs(rising_zero_crossings - 1000) <= 2  # still 1000 cycles in one second


def test_equal_rates_hand_back_the_same_bytes_object():
    audio = _tone(440, 8000, 0.1)
    assert resample(audio, 8000, 8000) is audio
    assert Resampler(16000, 16000).process(audio) is audio


def test_odd_byte_counts_and_bad_rates_are_rejected():
    with pytest.raises(ValueError, match="even number of bytes"):
        Resampler(8000, 16000).process(b"\x00")
    with pytest.raises(ValueError, match="positive"):
        Resampler(0, 8000)
