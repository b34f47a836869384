import pytest

from bridge.audio.framing import FRAME_MS, Framer, bytes_per_ms, duration_ms, frame_bytes

STREAM = bytes(i % 251 for i in range(160 * 57 + 33))  # not a whole number of frames


@pytest.mark.parametrize("chunk_size", [1, 159, 160, 161, 1000, len(STREAM)])
def test_chunks_of_any_size_yield_the_same_frames_in_order(chunk_size: int):
    framer = Framer(160)
    frames: list[bytes] = []
    for start in range(0, len(STREAM), chunk_size):
        frames.extend(framer.push(STREAM[start : start + chunk_size]))

    assert frames == [STREAM[i : i + 160] for i in range(0, 160 * 57, 160)]
    assert framer.pending == 33


def test_a_frame_is_returned_on_the_push_that_completes_it():
    framer = Framer(4)
    assert framer.push(b"ab") == []
    assert framer.push(b"cdef") == [b"abcd"]
    assert framer.push(b"gh") == [b"efgh"]
    assert framer.push(b"ijkl") == [b"ijkl"]
    assert framer.pending == 0


def test_reset_drops_the_partial_frame():
    framer = Framer(4)
    framer.push(b"abc")
    framer.reset()
    assert framer.pending == 0
    assert framer.push(b"wxyz") == [b"wxyz"]


def test_frame_size_helpers_match_the_telephone_formats():
    assert FRAME_MS == 20
    assert frame_bytes(8000) == 320  # PCM16
    assert frame_bytes(8000, sample_width=1) == 160  # mu-law
    assert frame_bytes(16000, ms=30) == 960
    assert bytes_per_ms(8000) == 16.0
    assert duration_ms(320, 8000) == 20
    assert duration_ms(160, 8000, sample_width=1) == 20
    with pytest.raises(ValueError, match="whole number of samples"):
        frame_bytes(22050, ms=1)
    with pytest.raises(ValueError, match="positive"):
        Framer(0)
