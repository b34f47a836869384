"""Cutting a byte stream that arrives in chunks of any size into fixed-size audio frames."""

from __future__ import annotations


class Framer:
    """Buffers chunks and hands out every whole frame as soon as it is complete."""

    def __init__(self, frame_bytes: int) -> None:
        if frame_bytes <= 0:
            raise ValueError(f"frame size must be positive, got {frame_bytes}")
        self.frame_bytes = frame_bytes
        self._buffer = bytearray()

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
