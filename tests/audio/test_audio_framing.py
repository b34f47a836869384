import pytest

from bridge.audio.framing import Framer
from bridge.audio.phone import FRAME_MS, PCM_FRAME, PHONE_RATE, ULAW_FRAME, ULAW_SILENCE

STREAM = bytes(i % 251 for i in range(160 * 57 + 33))  # not a whole number of frames


@pytest.mark.parametrize("chunk_size", [1, 159, 160, 161, 1000, len(STREAM)])
def test_chunks_of_any_size_yield_the_same_frames_in_order(chunk_size: int):
    framer = Framer(160)
    frames: list[bytes] = []
    for start in range(0, len(STREAM), chunk_size):
        frames.extend(framer.push(STREAM[start : start + chunk_size]))

    assert frames == [STREAM[i : i + 160] for i in range(0, 160 * 57, 160)]
    # The last 33 bytes were held back: the rest of their frame completes it.
    assert framer.push(bytes(127)) == [STREAM[160 * 57 :] + bytes(127)]


def test_a_frame_is_returned_on_the_push_that_completes_it():
    framer = Framer(4)
    assert framer.push(b"ab") == []
    assert framer.push(b"cdef") == [b"abcd"]
    assert framer.push(b"gh") == [b"efgh"]
    assert framer.push(b"ijkl") == [b"ijkl"]
    assert framer.push(b"mnop") == [b"mnop"]  # nothing was left held back


def test_the_phone_line_format_and_the_frame_size_check():
    assert (PHONE_RATE, FRAME_MS, ULAW_FRAME, PCM_FRAME) == (8000, 20, 160, 320)
    assert ULAW_SILENCE == b"\xff" * 160
    with pytest.raises(ValueError, match="positive"):
        Framer(0)
