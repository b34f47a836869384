"""Caller audio on its way to a Realtime model: batched by `audio_batch_ms` while a turn may be
going on, by `quiet_batch_ms` once the line has been quiet for longer than a turn can take to
end, and sent at once when a quiet line wakes up (so a barge-in reaches the model sooner)."""

from __future__ import annotations

import numpy as np

from bridge.audio.codec import pcm16_to_ulaw
from bridge.audio.phone import ULAW_FRAME, ULAW_SILENCE
from bridge.audio.ulaw_level import may_be_speech
from bridge.call.realtime_caller_audio import CallerAudio, caller_audio_of
from bridge.dialplan.models import Dialplan


def tone(dbfs: float) -> bytes:
    """One 20 ms frame of a 300 Hz tone, its peak at `dbfs`."""
    t = np.arange(ULAW_FRAME) / 8000
    pcm = 32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * 300 * t)
    return pcm16_to_ulaw(pcm.astype("<i2").tobytes())


def noise(dbfs: float, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    pcm = rng.normal(0, 32767 * 10 ** (dbfs / 20), ULAW_FRAME).clip(-32768, 32767)
    return pcm16_to_ulaw(pcm.astype("<i2").tobytes())


def sent_sizes(audio: CallerAudio, frames: list[bytes]) -> list[tuple[int, int]]:
    """(frame index, frames in the batch) for every batch `frames` make the caller send."""
    return [(i, len(b) // ULAW_FRAME) for i, f in enumerate(frames) if (b := audio.add(f))]


def test_speech_level_audio_may_be_speech_and_a_quiet_line_is_not() -> None:
    assert may_be_speech(tone(-20)) and may_be_speech(tone(-30))
    assert not may_be_speech(ULAW_SILENCE)
    assert not may_be_speech(noise(-55))  # a phone line's hiss
    click = bytearray(ULAW_SILENCE)
    click[80] = tone(0)[40]
    assert not may_be_speech(bytes(click))


def test_a_quiet_line_goes_in_quiet_batches_and_its_first_sound_goes_at_once() -> None:
    audio = CallerAudio(100, None, quiet_batch_ms=500, quiet_after_ms=1000)
    frames = [ULAW_SILENCE] * 60 + [tone(-20)] + [ULAW_SILENCE] * 10
    sent = sent_sizes(audio, frames)
    assert sent[:2] == [(24, 25), (49, 25)]  # 500 ms at a time while quiet
    assert sent[2] == (60, 11)  # the held quiet and the sound, the moment it came
    assert sent[3:] == [(65, 5), (70, 5)]  # then 100 ms at a time: the caller may talk on


def test_after_speech_the_line_stays_on_short_batches_until_the_turn_could_have_ended() -> None:
    audio = CallerAudio(100, None, quiet_batch_ms=500, quiet_after_ms=1000)
    speech = [tone(-25)] * 50 + [ULAW_SILENCE] * 100
    sent = sent_sizes(audio, speech)
    short = [at for at, size in sent if size == 5]
    # The model's VAD gets the silence after the words in 100 ms steps, to within one step of
    # the 1 s window, then in 500 ms ones.
    assert short[-1] >= 50 + (1000 - 100) // 20 - 1
    assert sent[-1][1] == 25


def test_the_quiet_window_follows_the_dialplans_turn_detection() -> None:
    def quiet_after(realtime: dict[str, object]) -> int:
        dialplan = Dialplan.model_validate(
            {
                "name": "x",
                "numbers": ["+15550000000"],
                "agent": {"mode": "realtime", "realtime": realtime},
            }
        )
        audio = caller_audio_of(dialplan)
        frames = 0
        audio.add(tone(-20))
        while not audio.quiet:
            audio.add(ULAW_SILENCE)
            frames += 1
        return frames * 20

    assert quiet_after({"silence_ms": 500}) == 1000
    assert quiet_after({"silence_ms": 1200}) == 1700
    assert quiet_after({"turn_detection": "semantic_vad"}) == 4500
