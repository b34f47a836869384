import numpy as np

from bridge.audio.denoise import denoise_turn
from bridge.audio.phone import PHONE_RATE


def _pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def _samples(pcm16: bytes) -> np.ndarray:
    return np.frombuffer(pcm16, dtype="<i2").astype(np.float64)


def _voice(seconds: float = 2.0) -> np.ndarray:
    """A vowel-like tone pair switching on and off every 250 ms, as syllables do."""
    t = np.arange(int(PHONE_RATE * seconds)) / PHONE_RATE
    on = (np.floor(t * 4) % 2 == 0).astype(float)
    return 8000 * on * (np.sin(2 * np.pi * 500 * t) + 0.5 * np.sin(2 * np.pi * 1500 * t))


def _band_power(x: np.ndarray, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / PHONE_RATE)
    return float(spectrum[(freqs > low) & (freqs < high)].sum())


def test_steady_hiss_is_reduced_and_the_voice_kept():
    voice = _voice()
    hiss = np.random.default_rng(1).standard_normal(len(voice)) * 1500  # about 8 dB SNR
    out = _samples(denoise_turn(_pcm(voice + hiss)))
    assert len(out) == len(voice)
    # Above the voice's tones there is only hiss: it drops by more than 3 dB.
    assert _band_power(out, 2000, 3400) < 0.5 * _band_power(voice + hiss, 2000, 3400)
    # The voice's own tones come through within 1 dB.
    assert _band_power(out, 490, 510) > 0.8 * _band_power(voice, 490, 510)
    assert _band_power(out, 1490, 1510) > 0.8 * _band_power(voice, 1490, 1510)


def test_a_clean_turn_passes_untouched():
    voice = _voice() + np.random.default_rng(2).standard_normal(2 * PHONE_RATE) * 20
    pcm = _pcm(voice)
    assert denoise_turn(pcm) == pcm


def test_a_turn_too_short_to_measure_passes_untouched():
    pcm = _pcm(np.random.default_rng(3).standard_normal(500) * 3000)
    assert denoise_turn(pcm) == pcm
