"""Sample-rate conversion of mono PCM16 (linear interpolation by `audioop.ratecv`)."""

from __future__ import annotations

from bridge.audio._audioop import audioop
from bridge.audio.codec import SAMPLE_WIDTH

# audioop's opaque filter state, carried from one chunk to the next.
_RatecvState = tuple[int, tuple[tuple[int, int], ...]] | None


def _check_pcm16(pcm16: bytes) -> None:
    if len(pcm16) % SAMPLE_WIDTH:
        raise ValueError(f"PCM16 needs an even number of bytes, got {len(pcm16)}")


class Resampler:
    """Converts a stream chunk by chunk; the state carried between chunks keeps the output the
    same as converting the whole stream at once (no clicks at chunk boundaries)."""

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        if src_rate <= 0 or dst_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {src_rate} -> {dst_rate}")
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self._state: _RatecvState = None

    def process(self, pcm16: bytes) -> bytes:
        """The next chunk, converted. Equal rates return the input object itself."""
        _check_pcm16(pcm16)
        if self.src_rate == self.dst_rate:
            return pcm16
        out, self._state = audioop.ratecv(
            pcm16, SAMPLE_WIDTH, 1, self.src_rate, self.dst_rate, self._state
        )
        return out


def resample(pcm16: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Converts one complete piece of audio. Equal rates return the input object itself."""
    return Resampler(src_rate, dst_rate).process(pcm16)
