"""The phone line's audio as Twilio's media streams carry it: 8 kHz mono G.711 mu-law in 20 ms
frames. Every part that meets the line (the call, the turn detector, the simulated callers)
takes these numbers from here."""

from __future__ import annotations

from bridge.audio.codec import SAMPLE_WIDTH

PHONE_RATE = 8000  # samples a second
FRAME_MS = 20  # one media frame, and the frame the turn detector (webrtcvad) works on
ULAW_FRAME = PHONE_RATE * FRAME_MS // 1000  # 160 bytes: one mu-law byte a sample
PCM_FRAME = ULAW_FRAME * SAMPLE_WIDTH  # 320 bytes: the same 20 ms as PCM16
ULAW_SILENCE = b"\xff" * ULAW_FRAME  # 20 ms of mu-law silence
