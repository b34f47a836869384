"""A PCM16 WAV written piece by piece, so a long call never sits whole in memory.

Blocking file I/O: call from a thread in async code. The header's sizes are written at
`close`; a file this class wrote before (same rate and channels) is continued, so a call that
comes back on a new media stream keeps one recording.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from bridge.audio.codec import SAMPLE_WIDTH

HEADER_BYTES = 44
_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")


def _header(sample_rate: int, channels: int, data_bytes: int) -> bytes:
    block = channels * SAMPLE_WIDTH
    return _HEADER.pack(
        b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1, channels, sample_rate,
        sample_rate * block, block, SAMPLE_WIDTH * 8, b"data", data_bytes,
    )  # fmt: skip


class WavAppender:
    def __init__(self, path: Path, sample_rate: int, channels: int) -> None:
        self._file: BinaryIO
        expected = _header(sample_rate, channels, 0)
        if path.is_file() and path.stat().st_size >= HEADER_BYTES:
            self._file = path.open("r+b")
            head = self._file.read(HEADER_BYTES)
            # Sizes aside (offsets 4 and 40), the header must be the one we would write.
            if head[8:40] != expected[8:40] or head[:4] != b"RIFF":
                self._file.close()
                raise ValueError(f"{path} is not a {channels}-channel {sample_rate} Hz PCM16 WAV")
            self._file.seek(0, 2)
        else:
            self._file = path.open("wb")
            self._file.write(expected)
        self._sample_rate = sample_rate
        self._channels = channels

    def write(self, pcm16: bytes) -> None:
        self._file.write(pcm16)

    def close(self) -> None:
        data_bytes = self._file.seek(0, 2) - HEADER_BYTES
        self._file.seek(0)
        self._file.write(_header(self._sample_rate, self._channels, data_bytes))
        self._file.close()
