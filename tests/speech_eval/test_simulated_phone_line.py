import numpy as np
import pytest

from bridge.audio.phone import PHONE_RATE
from bridge.speech_eval.phone_line import babble_from, phone_line, speech_power


def _tone(freq_hz: float, rate: int = 16000, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return 0.5 * np.sin(2 * np.pi * freq_hz * t)


def _samples(pcm16: bytes) -> np.ndarray:
    return np.frombuffer(pcm16, dtype="<i2").astype(np.float64) / 32768


def test_the_line_is_eight_kilohertz_and_keeps_only_the_phone_band():
    in_band = _samples(phone_line(_tone(1000), 16000))
    assert len(in_band) == PHONE_RATE
    low = _samples(phone_line(_tone(100) + 0.1 * _tone(1000), 16000))
    # 100 Hz hum is cut far below the 1 kHz tone that rides on it.
    spectrum = np.abs(np.fft.rfft(low[2000:]))
    freqs = np.fft.rfftfreq(len(low[2000:]), 1 / PHONE_RATE)
    assert spectrum[np.argmin(abs(freqs - 100))] < spectrum[np.argmin(abs(freqs - 1000))]


@pytest.mark.parametrize("noise", ["white", "babble"])
def test_noise_is_added_at_the_requested_snr(noise: str):
    speech = _tone(700) * (1 + 0.5 * np.sin(2 * np.pi * 3 * np.arange(16000) / 16000))
    clean = _samples(phone_line(speech, 16000))
    babble = babble_from([_tone(450, seconds=2.0), _tone(1300, seconds=2.0)], 16000)
    noisy = _samples(phone_line(speech, 16000, noise, 10.0, seed=3, babble=babble))  # type: ignore[arg-type]
    snr = 10 * np.log10(speech_power(clean) / np.mean((noisy - clean) ** 2))
    assert 8.5 < snr < 11.5  # mu-law coding adds its own small error on top


def test_babble_without_other_talkers_is_refused():
    with pytest.raises(ValueError, match="other speech"):
        phone_line(_tone(700), 16000, "babble")
