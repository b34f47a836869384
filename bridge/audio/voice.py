"""Who hears voice in a frame, and what cleans the frame first: small protocols, picked by name.

The turn detector asks a `VoiceDetector` about every 20 ms frame of 8 kHz PCM16 and, when a
dialplan turns noise suppression on, runs each frame through a `FrameFilter` first (the
filtered audio is also what the recogniser hears). Both sit on the hot path: one call per
frame per call, so their CPU per frame decides how many calls a core holds.

- `webrtc` (default): webrtcvad, ~1.5 us a frame.
- `silero`: Silero VAD's ONNX model (`bridge/audio/silero.py`), ~60-100 us a frame.
- noise suppression `rnnoise`: RNNoise (`bridge/audio/rnnoise.py`), ~1 ms a frame: off by
  default, and measured to help the VAD in loud hiss but to hurt the recogniser.

A model that is not installed is a warning and the cheap default, never a failed call.
Loading one takes up to a second or two (onnxruntime, scipy, a 14 MB library): `warm_up`
does it at startup, off the event loop, for every model the dialplans name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Protocol

import webrtcvad

from bridge.audio.phone import PHONE_RATE
from bridge.dialplan.models import TurnSettings

log = logging.getLogger(__name__)


class VoiceModelMissing(RuntimeError):
    """A model the dialplan asks for is not installed, with what to install."""


class VoiceDetector(Protocol):
    def is_speech(self, frame: bytes) -> bool:
        """Whether one 20 ms frame of 8 kHz PCM16 (320 bytes) holds voice."""
        ...


class FrameFilter(Protocol):
    def process(self, frame: bytes) -> bytes:
        """One 20 ms frame of 8 kHz PCM16 in, the same length out (a little delayed)."""
        ...


class WebrtcVoice:
    """webrtcvad at the dialplan's aggressiveness (0-3)."""

    def __init__(self, aggressiveness: int) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        return self._vad.is_speech(frame, PHONE_RATE)


def _webrtc(settings: TurnSettings) -> VoiceDetector:
    return WebrtcVoice(settings.vad_aggressiveness)


def _silero(settings: TurnSettings) -> VoiceDetector:
    from bridge.audio.silero import SileroVoice

    return SileroVoice(settings.vad_threshold)


def _rnnoise(settings: TurnSettings) -> FrameFilter:
    from bridge.audio.rnnoise import RNNoiseFilter

    return RNNoiseFilter()


DETECTORS: dict[str, Callable[[TurnSettings], VoiceDetector]] = {
    "webrtc": _webrtc,
    "silero": _silero,
}
FILTERS: dict[str, Callable[[TurnSettings], FrameFilter]] = {"rnnoise": _rnnoise}
_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning(message)


def voice_detector(settings: TurnSettings) -> VoiceDetector:
    """The detector the settings name; webrtcvad when that one's model is not installed."""
    try:
        return DETECTORS[settings.vad](settings)
    except VoiceModelMissing as error:
        _warn_once(f"{error}; using webrtcvad")
        return _webrtc(settings)


def frame_filter(settings: TurnSettings) -> FrameFilter | None:
    """The noise suppression the settings name (None: off, or not installed)."""
    if settings.noise_suppression == "off":
        return None
    try:
        return FILTERS[settings.noise_suppression](settings)
    except VoiceModelMissing as error:
        _warn_once(f"{error}; noise suppression off")
        return None


def warm_up(settings: Iterable[TurnSettings]) -> None:
    """Load every model these turn settings name (blocking: run it in a thread), so that no
    call's first frame loads one on the event loop. What is missing is warned about here."""
    for turns in {(t.vad, t.noise_suppression): t for t in settings}.values():
        voice_detector(turns)
        frame_filter(turns)
