"""The turn detector on synthetic audio: a harmonic buzz that webrtcvad hears as voice,
digital silence, tones and noise. Frames line up with segment edges, so event times are exact."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.audio.codec import pcm16_to_ulaw, ulaw_to_pcm16
from bridge.audio.framing import Framer
from bridge.audio.phone import PCM_FRAME, PHONE_RATE
from bridge.audio.turns import (
    SilenceStarted,
    SpeechResumed,
    SpeechStarted,
    TurnDropped,
    TurnEnded,
    TurnEvent,
)
from bridge.audio.vad import TurnDetector
from bridge.dialplan.models import TurnSettings

DEFAULTS = TurnSettings()  # onset 60, silence 600, min 250, max 15000, aggressiveness 2


def voice(ms: int) -> np.ndarray:
    """A 120 Hz buzz with 24 harmonics: voice-like enough for webrtcvad at every mode."""
    t = np.arange(PHONE_RATE * ms // 1000) / PHONE_RATE
    return sum(3000 / k * np.sin(2 * np.pi * 120 * k * t) for k in range(1, 25))


def silence(ms: int) -> np.ndarray:
    return np.zeros(PHONE_RATE * ms // 1000)


def tone(hz: int, ms: int) -> np.ndarray:
    t = np.arange(PHONE_RATE * ms // 1000) / PHONE_RATE
    return 8000 * np.sin(2 * np.pi * hz * t)


def pcm(*segments: np.ndarray, noise_rms: float = 0.0) -> bytes:
    signal = np.concatenate(segments)
    if noise_rms:
        signal = signal + np.random.default_rng(7).normal(0, noise_rms, len(signal))
    return np.clip(signal, -32768, 32767).astype("<i2").tobytes()


def run(audio: bytes, settings: TurnSettings = DEFAULTS) -> list[tuple[int, TurnEvent]]:
    """Every event with the 1-based number of the frame whose push returned it."""
    detector = TurnDetector(settings)
    events = []
    for number, start in enumerate(range(0, len(audio) - PCM_FRAME + 1, PCM_FRAME), 1):
        event = detector.push(audio[start : start + PCM_FRAME])
        if event is not None:
            events.append((number, event))
    return events


def kinds(events: list[tuple[int, TurnEvent]]) -> list[type]:
    return [type(event) for _, event in events]


@pytest.mark.parametrize("noise_rms", [0, 100])
def test_onset_debounce_ignores_a_20_ms_click(noise_rms: float):
    click = pcm(silence(1000), voice(20), silence(1000), noise_rms=noise_rms)
    word = pcm(silence(1000), voice(300), silence(1000), noise_rms=noise_rms)

    assert run(click) == []
    assert kinds(run(word))[0] is SpeechStarted  # the same line does hear a real word


def test_speech_started_fires_on_the_frame_that_confirms_onset():
    events = run(pcm(silence(400), voice(500), silence(1000)))

    number, first = events[0]
    assert first == SpeechStarted(at_ms=460)  # 400 ms of silence + 60 ms of onset
    assert number == 23  # frames 21, 22, 23 are the onset run


def test_silence_window_ends_the_turn_with_preroll_speech_and_a_short_tail():
    audio = pcm(silence(400), voice(500), silence(1000))
    events = run(audio)

    assert (
        [event for _, event in events]
        == [
            SpeechStarted(at_ms=460),
            SilenceStarted(at_ms=920),  # the first unvoiced frame
            TurnEnded(
                audio=audio[200 * 16 : 1000 * 16],  # 200 ms pre-roll .. 100 ms after the speech
                duration_ms=500,
                reason="silence",
                at_ms=1500,  # 600 ms of silence after the speech ended at 900
                silence_ms=600,
            ),
        ]
    )


def test_a_pause_shorter_than_the_silence_window_resumes_the_same_turn():
    events = run(pcm(silence(400), voice(400), silence(300), voice(400), silence(1000)))

    assert [(type(event), event.at_ms) for _, event in events] == [
        (SpeechStarted, 460),
        (SilenceStarted, 820),
        (SpeechResumed, 1160),  # resuming is debounced like the onset: 1100 + 60
        (SilenceStarted, 1520),
        (TurnEnded, 2100),
    ]
    ended = events[-1][1]
    assert isinstance(ended, TurnEnded)
    assert ended.duration_ms == 1100  # both words and the pause between them


def test_max_length_cuts_the_turn_and_a_new_one_starts():
    settings = TurnSettings(max_utterance_ms=1000)
    audio = pcm(silence(400), voice(2500), silence(1000))
    events = run(audio, settings)

    assert kinds(events)[:3] == [SpeechStarted, TurnEnded, SpeechStarted]
    cut = events[1][1]
    assert isinstance(cut, TurnEnded)
    assert (cut.reason, cut.duration_ms, cut.at_ms) == ("max_length", 1000, 1400)
    assert cut.audio == audio[200 * 16 : 1400 * 16]  # pre-roll + exactly the first second
    assert events[2][1].at_ms == 1460  # the speech goes on: a fresh onset right after the cut
    assert kinds(events).count(TurnEnded) == 3  # 1000 + 1000 + the last 500 ms


def test_speech_resuming_as_the_window_closes_starts_the_next_turn_whole():
    # The caller starts again 40 ms before the 600 ms window closes: too late for this turn,
    # but those 40 ms count toward the next onset and sit in its pre-roll.
    audio = pcm(silence(400), voice(400), silence(560), voice(400), silence(1000))
    events = [event for _, event in run(audio)]

    assert [(type(event), event.at_ms) for event in events] == [
        (SpeechStarted, 460),
        (SilenceStarted, 820),
        (TurnEnded, 1400),
        (SpeechStarted, 1420),
        (SilenceStarted, 1780),
        (TurnEnded, 2360),
    ]
    second = events[-1]
    assert isinstance(second, TurnEnded)
    assert second.duration_ms == 400
    assert second.audio == audio[(1360 - 200) * 16 : (1760 + 100) * 16]


def test_turn_audio_at_silence_started_is_what_the_ended_turn_begins_with():
    # What a speculative transcription started at SilenceStarted hears.
    audio = pcm(silence(400), voice(500), silence(1000))
    detector = TurnDetector(DEFAULTS)
    snapshot, ended = None, None
    assert detector.turn_audio() == b""
    for start in range(0, len(audio), PCM_FRAME):
        event = detector.push(audio[start : start + PCM_FRAME])
        if isinstance(event, SilenceStarted):
            snapshot = detector.turn_audio()
        elif isinstance(event, TurnEnded):
            ended = event

    assert snapshot == audio[200 * 16 : 920 * 16]  # pre-roll, speech, the first silent frame
    assert ended is not None and ended.audio.startswith(snapshot)
    assert ended.audio[len(snapshot) :] == bytes(80 * 16)  # only silence came after it
    assert detector.turn_audio() == b""


def test_speech_shorter_than_the_minimum_is_dropped():
    events = run(pcm(silence(400), voice(160), silence(1000)))

    assert [event for _, event in events] == [
        SpeechStarted(at_ms=460),
        SilenceStarted(at_ms=580),
        TurnDropped(duration_ms=160, at_ms=1160),
    ]


def test_aggressiveness_setting_reaches_webrtcvad():
    # A steady 3 kHz tone is "speech" to the permissive mode and noise to the strictest one.
    audio = pcm(silence(400), tone(3000, 1000), silence(400))

    assert kinds(run(audio, TurnSettings(vad_aggressiveness=0, onset_ms=200)))[0] is SpeechStarted
    assert run(audio, TurnSettings(vad_aggressiveness=3, onset_ms=200)) == []


def test_mulaw_chunks_of_any_size_give_the_same_turn_as_whole_frames():
    audio = pcm(silence(400), voice(700), silence(1000), noise_rms=50)
    telephone = pcm16_to_ulaw(audio)
    framer, detector = Framer(PCM_FRAME), TurnDetector(DEFAULTS)
    events = []
    for start in range(0, len(telephone), 97):
        for frame in framer.push(ulaw_to_pcm16(telephone[start : start + 97])):
            event = detector.push(frame)
            if event is not None:
                events.append(event)

    direct = [event for _, event in run(ulaw_to_pcm16(telephone))]
    assert events == direct
    assert isinstance(events[-1], TurnEnded)


def test_frames_of_the_wrong_size_are_rejected():
    with pytest.raises(ValueError, match="320 bytes"):
        TurnDetector(DEFAULTS).push(bytes(160))


def run_holding(audio: bytes, holds: dict[int, int]) -> list[tuple[int, TurnEvent]]:
    """Like `run`, calling `hold(ms)` right after the push of each frame number in `holds`."""
    detector = TurnDetector(DEFAULTS)
    events = []
    for number, start in enumerate(range(0, len(audio) - PCM_FRAME + 1, PCM_FRAME), 1):
        event = detector.push(audio[start : start + PCM_FRAME])
        if event is not None:
            events.append((number, event))
        if number in holds:
            detector.hold(holds[number])
    return events


def test_a_shorter_hold_already_outlasted_ends_the_turn_on_the_next_frame():
    # Speech 400..900 ms; the pause starts on frame 46 (920 ms). At frame 60 (300 ms into
    # the pause) the window drops to 250 ms: the turn ends on frame 61, 320 ms in.
    events = run_holding(pcm(silence(400), voice(500), silence(1000)), {60: 250})

    number, ended = events[-1]
    assert isinstance(ended, TurnEnded)
    assert (number, ended.silence_ms) == (61, 320)


def test_a_longer_hold_keeps_the_turn_open_past_silence_ms():
    # A 1 s pause inside the turn, with the window lengthened to 1600 ms at its first frame.
    audio = pcm(silence(400), voice(500), silence(1000), voice(500), silence(2000))
    events = run_holding(audio, {46: 1600})

    assert kinds(events) == [
        SpeechStarted,
        SilenceStarted,
        SpeechResumed,
        SilenceStarted,
        TurnEnded,
    ]
    ended = events[-1][1]
    assert isinstance(ended, TurnEnded)
    # The second pause is back to silence_ms: the window is per pause.
    assert ended.duration_ms == 2000 and ended.silence_ms == 600
