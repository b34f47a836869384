"""G.711 mu-law <-> 16-bit linear PCM (little-endian, mono), the telephone's sample format."""

from __future__ import annotations

from bridge.audio._audioop import audioop

SAMPLE_WIDTH = 2  # bytes per PCM16 sample


def ulaw_to_pcm16(data: bytes) -> bytes:
    """One mu-law byte per sample in, two PCM16 bytes per sample out."""
    return audioop.ulaw2lin(data, SAMPLE_WIDTH)


def pcm16_to_ulaw(data: bytes) -> bytes:
    """PCM16 in (an even number of bytes, else ValueError), one mu-law byte per sample out."""
    if len(data) % SAMPLE_WIDTH:
        raise ValueError(f"PCM16 needs an even number of bytes, got {len(data)}")
    return audioop.lin2ulaw(data, SAMPLE_WIDTH)
