"""Cutting a byte stream that arrives in chunks of any size into fixed-size audio frames."""

from __future__ import annotations

from bridge.audio.codec import SAMPLE_WIDTH

FRAME_MS = 20  # the frame the turn detector (webrtcvad) works on


def bytes_per_ms(sample_rate: int, sample_width: int = SAMPLE_WIDTH) -> float:
    """How many bytes one millisecond of mono audio takes (16.0 for PCM16 at 8 kHz)."""
    return sample_rate * sample_width / 1000


def frame_bytes(sample_rate: int, ms: int = FRAME_MS, sample_width: int = SAMPLE_WIDTH) -> int:
    """Bytes in `ms` of mono audio: 320 for a 20 ms PCM16 frame at 8 kHz, 160 for mu-law."""
    total = sample_rate * ms * sample_width
    if total % 1000:
        raise ValueError(f"{ms} ms at {sample_rate} Hz is not a whole number of samples")
    return total // 1000


def duration_ms(n_bytes: int, sample_rate: int, sample_width: int = SAMPLE_WIDTH) -> int:
    """How long `n_bytes` of mono audio plays, in whole milliseconds (rounded down)."""
    return n_bytes * 1000 // (sample_rate * sample_width)


class Framer:
    """Buffers chunks and hands out every whole frame as soon as it is complete."""

    def __init__(self, frame_bytes: int) -> None:
        if frame_bytes <= 0:
            raise ValueError(f"frame size must be positive, got {frame_bytes}")
        self.frame_bytes = frame_bytes
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back, waiting for the rest of their frame."""
        return len(self._buffer)

    def push(self, data: bytes) -> list[bytes]:
        """Adds a chunk; returns the frames it completed (possibly none), oldest first."""
        size = self.frame_bytes
        if not self._buffer and len(data) == size:
            return [bytes(data)]  # the usual case: one chunk is one frame, nothing to buffer
        buffer = self._buffer
        buffer += data
        count = len(buffer) // size
        if not count:
            return []
        with memoryview(buffer) as view:
            frames = [view[i : i + size].tobytes() for i in range(0, count * size, size)]
        del buffer[: count * size]
        return frames

    def reset(self) -> None:
        """Drops the partial frame held back."""
        self._buffer.clear()
