import numpy as np
import pytest

from bridge.audio.codec import pcm16_to_ulaw, ulaw_to_pcm16

ULAW_PEAK = 32124  # the largest magnitude mu-law can represent


def test_every_pcm16_value_survives_a_ulaw_round_trip_within_the_g711_step():
    samples = np.arange(-32768, 32768, dtype="<i2")
    encoded = pcm16_to_ulaw(samples.tobytes())
    decoded = np.frombuffer(ulaw_to_pcm16(encoded), dtype="<i2").astype(np.int64)
    original = samples.astype(np.int64)

    assert len(encoded) == len(samples)
    in_range = np.abs(original) <= ULAW_PEAK
    error = np.abs(decoded - original)[in_range]
    # Logarithmic quantiser: the error grows with the level, about 1/32 of it at most.
    assert np.all(error <= 8 + np.abs(original[in_range]) / 32)
    assert np.all(np.abs(decoded[~in_range]) == ULAW_PEAK)  # louder samples clip at the peak


def test_every_ulaw_code_decodes_and_encodes_back_to_itself():
    codes = bytes(range(256))
    again = pcm16_to_ulaw(ulaw_to_pcm16(codes))
    # 0x7F is mu-law's "negative zero"; it decodes to 0 like 0xFF and comes back as 0xFF.
    assert [(a, b) for a, b in zip(codes, again, strict=True) if a != b] == [(0x7F, 0xFF)]


def test_silence_in_ulaw_is_0xff_and_decodes_to_zero():
    assert pcm16_to_ulaw(bytes(320)) == b"\xff" * 160
    assert ulaw_to_pcm16(b"\xff" * 160) == bytes(320)


def test_pcm16_with_an_odd_byte_count_is_rejected():
    with pytest.raises(ValueError, match="even number of bytes"):
        pcm16_to_ulaw(b"\x00\x01\x02")
