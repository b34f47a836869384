import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.audio.resample import Resampler, resample


def _tone(freq_hz: float, rate: int, seconds: float, amplitude: int = 8000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype("<i2").tobytes()


def _level_db(pcm16: bytes, reference_amplitude: int = 8000) -> float:
    samples = np.frombuffer(pcm16, dtype="<i2").astype(np.float64)
    rms = np.sqrt(np.mean(samples[200:-200] ** 2))  # away from the edges' transients
    return 20 * np.log10(max(rms, 1e-9) / (reference_amplitude / np.sqrt(2)))


SOURCE = _tone(440, 22050, 0.5) + _tone(1000, 22050, 0.5)


def _chunked(resampler: Resampler, sample_counts: list[int]) -> bytes:
    pieces, start = [], 0
    for count in sample_counts:
        pieces.append(resampler.process(SOURCE[start : start + 2 * count]))
        start += 2 * count
    pieces.append(resampler.process(SOURCE[start:]))
    return b"".join(pieces) + resampler.flush()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=40))
def test_linear_resampling_in_chunks_gives_exactly_the_one_shot_output(sample_counts: list[int]):
    chunked = _chunked(Resampler(22050, 8000, "linear"), sample_counts)
    assert chunked == resample(SOURCE, 22050, 8000, "linear")


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=40))
def test_soxr_resampling_in_chunks_then_flushed_matches_the_one_shot_output(
    sample_counts: list[int],
):
    chunked = np.frombuffer(_chunked(Resampler(22050, 8000, "soxr"), sample_counts), "<i2")
    whole = np.frombuffer(resample(SOURCE, 22050, 8000, "soxr"), "<i2")
    assert len(chunked) == len(whole)
    # The filter runs in floating point: chunking may move a sample by a rounding step.
    assert np.max(np.abs(chunked.astype(int) - whole)) <= 2


def test_soxr_removes_what_would_fold_into_the_phone_band_and_linear_does_not():
    above_nyquist = _tone(5000, 22050, 1.0)  # 8 kHz keeps up to 4 kHz: 5 kHz must go
    assert _level_db(resample(above_nyquist, 22050, 8000, "soxr")) < -40
    assert _level_db(resample(above_nyquist, 22050, 8000, "linear")) > -6  # a 3 kHz alias


@pytest.mark.parametrize("method", ["soxr", "linear"])
def test_a_tone_keeps_its_pitch_level_and_duration_across_rates(method: str):
    upsampled = resample(_tone(1000, 8000, 1.0), 8000, 16000, method)  # type: ignore[arg-type]
    samples = np.frombuffer(upsampled, dtype="<i2")
    assert abs(len(samples) - 16000) <= 2
    rising_zero_crossings = np.sum((samples[:-1] < 0) & (samples[1:] >= 0))
    assert abs(rising_zero_crossings - 1000) <= 2  # still 1000 cycles in one second
    assert abs(_level_db(upsampled)) < 0.5


def test_equal_rates_hand_back_the_same_bytes_object():
    audio = _tone(440, 8000, 0.1)
    assert resample(audio, 8000, 8000) is audio
    assert Resampler(16000, 16000).process(audio) is audio


def test_odd_byte_counts_and_bad_rates_are_rejected():
    with pytest.raises(ValueError, match="even number of bytes"):
        Resampler(8000, 16000).process(b"\x00")
    with pytest.raises(ValueError, match="positive"):
        Resampler(0, 8000)
