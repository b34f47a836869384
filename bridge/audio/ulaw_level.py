"""Whether a stretch of mu-law may hold speech, read straight off its bytes (no decoding): a
gate cheap enough to run on every frame, for holding back audio that is certainly quiet.

It errs towards speech: line noise and breath stay under it, but so might a whisper's first
syllable, which then waits at most one quiet batch (`realtime_caller_audio`).
"""

from __future__ import annotations

from bridge.audio.codec import SAMPLE_WIDTH, ulaw_to_pcm16

LOUD_PCM = 560  # about -35 dBFS
LOUD_SAMPLES = 4  # samples over it in a frame: one click is not speech


def _loud_codes() -> bytes:
    """For each mu-law byte, 1 if it decodes louder than LOUD_PCM, else 0."""
    pcm = ulaw_to_pcm16(bytes(range(256)))
    levels = (
        abs(int.from_bytes(pcm[i : i + SAMPLE_WIDTH], "little", signed=True))
        for i in range(0, len(pcm), SAMPLE_WIDTH)
    )
    return bytes(1 if level > LOUD_PCM else 0 for level in levels)


_LOUD = _loud_codes()


def may_be_speech(ulaw: bytes) -> bool:
    return ulaw.translate(_LOUD).count(1) >= LOUD_SAMPLES
