"""Finds the caller's turns in 20 ms frames of 8 kHz PCM16.

A frame counts as voiced when the dialplan's voice detector (webrtcvad by default, or Silero;
see `bridge/audio/voice.py`) says speech AND its level stands clear of the line's noise floor.
webrtcvad alone keeps saying "speech" for ~100 ms after any burst (its hangover), which would
turn a 20 ms click into a confirmed onset; the level gate rejects those frames. With noise
suppression on, the VAD and the gate hear each frame cleaned; the turn's audio (what the
recogniser hears) is the line as it came, unless `suppress_for: vad_and_stt`.

Plain synchronous code called once per frame on the hot path: with webrtcvad, one VAD call
and one RMS (a few microseconds), a few number updates, and an event object only when
something happens.
"""

from __future__ import annotations

from collections import deque
from enum import Enum
from typing import Literal

from bridge.audio._audioop import audioop
from bridge.audio.codec import SAMPLE_WIDTH
from bridge.audio.phone import FRAME_MS, PCM_FRAME
from bridge.audio.turns import (
    SilenceStarted,
    SpeechResumed,
    SpeechStarted,
    TurnDropped,
    TurnEnded,
    TurnEvent,
)
from bridge.audio.voice import frame_filter, voice_detector
from bridge.dialplan.models import TurnSettings

PREROLL_MS = 200  # audio kept from before the onset, so the first syllable isn't clipped
TAIL_MS = 100  # silence kept after the last voiced frame; Whisper likes a little
MIN_SPEECH_RMS = 60  # about -55 dBFS: quieter frames are never speech
# Voiced frames stand at least 3 dB over the noise floor. 6 dB lost 37 % of the speech frames
# in white noise at 5 dB SNR (8 % at 10 dB); 3 dB loses 8 % (4 %), with no more false starts
# in hiss, babble or silence (`bridge wer --vad webrtc --snr 5,10,20`).
SPEECH_OVER_NOISE = 1.41


def _frames(ms: int) -> int:
    """Whole frames needed to cover `ms` (at least one)."""
    return max(1, -(-ms // FRAME_MS))


class _NoiseFloor:
    """The line's background level, learned from frames webrtcvad calls non-speech: it follows
    a quieter line at once and a louder one slowly, so quiet speech cannot drag it up."""

    def __init__(self) -> None:
        self.level: float | None = None  # set from the first frame

    def gate(self) -> float:
        """The RMS a voiced frame must reach."""
        return max(MIN_SPEECH_RMS, (self.level or 0.0) * SPEECH_OVER_NOISE)

    def learn(self, rms: int) -> None:
        if self.level is None:
            self.level = float(rms)
        elif rms < self.level:
            self.level += (rms - self.level) * 0.5
        else:
            self.level += (rms - self.level) * 0.02


class _State(Enum):
    IDLE = "idle"  # no turn: waiting for onset
    SPEAKING = "speaking"  # in a turn, last frame voiced
    PAUSED = "paused"  # in a turn, silence window running


class TurnDetector:
    """Turns a stream of frames into turn events; `push` returns at most one event per frame.

    Onset and resume are debounced alike: `onset_ms` of voiced frames in a row. A voiced frame
    that does not complete that run leaves the silence window running, so line noise cannot
    keep a turn open. When two events fall on one frame, the turn's end wins (a max-length cut
    beats SilenceStarted/SpeechResumed). After a turn ends, its last PREROLL_MS become the
    next turn's pre-roll, so speech that resumes right at the end of the window is not lost.
    """

    def __init__(self, settings: TurnSettings) -> None:
        self.settings = settings
        self._vad = voice_detector(settings)
        self._filter = frame_filter(settings)
        self._stt_hears_filtered = settings.suppress_for == "vad_and_stt"
        self._floor = _NoiseFloor()
        self._onset_frames = _frames(settings.onset_ms)
        self._silence_frames = _frames(settings.silence_ms)
        self._window_frames = self._silence_frames  # the silence that ends this pause
        self._max_frames = _frames(settings.max_utterance_ms)
        self._tail_bytes = _frames(TAIL_MS) * PCM_FRAME
        # Pre-roll plus the onset run itself: everything the turn's audio starts with.
        self._recent: deque[bytes] = deque(maxlen=_frames(PREROLL_MS) + self._onset_frames)
        self._frame = 0  # frames pushed: the stream clock in FRAME_MS units
        self._state = _State.IDLE
        self._run = 0  # voiced frames in a row, toward onset (IDLE) or resume (PAUSED)
        self._silence = 0  # frames since SilenceStarted
        self._audio = bytearray()  # the turn so far, pre-roll included
        self._onset_frame = 0  # first voiced frame of the onset run
        self._speech_end_frame = 0  # last frame heard as speech
        self._speech_end_bytes = 0  # len(self._audio) at that frame

    @property
    def clock_ms(self) -> int:
        """The stream clock: frames pushed so far x 20 ms."""
        return self._frame * FRAME_MS

    def push(self, frame: bytes) -> TurnEvent | None:
        """Feeds one 20 ms frame of 8 kHz mono PCM16 (320 bytes)."""
        if len(frame) != PCM_FRAME:
            raise ValueError(f"a frame is {PCM_FRAME} bytes, got {len(frame)}")
        self._frame += 1
        heard = frame if self._filter is None else self._filter.process(frame)
        if self._stt_hears_filtered:
            frame = heard
        voiced = self._voiced(heard)
        if self._state is _State.IDLE:
            return self._idle(frame, voiced)
        self._audio += frame
        if self._state is _State.SPEAKING:
            event = self._speaking(voiced)
        else:
            event = self._paused(voiced)
            if event is not None and not isinstance(event, SpeechResumed):
                return event
        if self._frame - self._onset_frame + 1 >= self._max_frames:
            return self._finish("max_length")
        return event

    def hold(self, window_ms: int) -> None:
        """Sets the silence that ends the current pause, counted from its first quiet frame.

        Reset to `silence_ms` at every SilenceStarted; the endpointer moves it while the pause
        runs. A window the pause has already outlasted ends the turn on the next frame.
        """
        self._window_frames = _frames(window_ms)

    def turn_audio(self) -> bytes:
        """The audio TurnEnded would carry if the turn ended now (b"" outside a turn).

        Taken at SilenceStarted it is what a speculative transcription hears: until speech
        resumes, the turn's audio only grows by silence after it.
        """
        if self._state is _State.IDLE:
            return b""
        return bytes(self._audio[: self._speech_end_bytes + self._tail_bytes])

    def _voiced(self, frame: bytes) -> bool:
        rms = audioop.rms(frame, SAMPLE_WIDTH)
        speech = self._vad.is_speech(frame)
        if not speech or self._floor.level is None:
            self._floor.learn(rms)
            return False
        return rms >= self._floor.gate()

    def _idle(self, frame: bytes, voiced: bool) -> SpeechStarted | None:
        self._recent.append(frame)
        if not voiced:
            self._run = 0
            return None
        self._run += 1
        if self._run < self._onset_frames:
            return None
        self._state = _State.SPEAKING
        self._run = 0
        self._onset_frame = self._frame - self._onset_frames + 1
        self._audio = bytearray(b"".join(self._recent))
        self._recent.clear()
        self._mark_speech()
        return SpeechStarted(self.clock_ms)

    def _speaking(self, voiced: bool) -> SilenceStarted | None:
        if voiced:
            self._mark_speech()
            return None
        self._state = _State.PAUSED
        self._silence = 1
        self._window_frames = self._silence_frames
        self._run = 0
        return SilenceStarted(self.clock_ms)

    def _paused(self, voiced: bool) -> TurnEvent | None:
        self._silence += 1
        self._run = self._run + 1 if voiced else 0
        if self._run >= self._onset_frames:
            self._state = _State.SPEAKING
            self._run = 0
            self._mark_speech()
            return SpeechResumed(self.clock_ms)
        if self._silence >= self._window_frames:
            return self._finish("silence")
        return None

    def _mark_speech(self) -> None:
        self._speech_end_frame = self._frame
        self._speech_end_bytes = len(self._audio)

    def _finish(self, reason: Literal["silence", "max_length"]) -> TurnEnded | TurnDropped:
        duration_ms = (self._speech_end_frame - self._onset_frame + 1) * FRAME_MS
        at_ms = self.clock_ms
        audio = self._audio
        event: TurnEnded | TurnDropped
        if reason == "silence" and duration_ms < self.settings.min_utterance_ms:
            event = TurnDropped(duration_ms, at_ms)
        else:
            silence_ms = self._silence * FRAME_MS if reason == "silence" else 0
            event = TurnEnded(self.turn_audio(), duration_ms, reason, at_ms, silence_ms)
        # Hand the last frames on as the next turn's pre-roll, with any voiced run under way.
        keep = min(len(audio), (self._recent.maxlen or 0) * PCM_FRAME)
        self._recent.extend(
            bytes(audio[i : i + PCM_FRAME]) for i in range(len(audio) - keep, len(audio), PCM_FRAME)
        )
        self._state = _State.IDLE
        self._silence = 0
        self._audio = bytearray()
        return event
