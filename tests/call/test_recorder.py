"""The bridge's own recording: caller left, agent right, each where they spoke on the stream's
clock, and nothing of what a barge-in cut off; written in pieces, continued on a new stream."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np

from bridge.audio.codec import pcm16_to_ulaw
from bridge.call.recorder import CallRecorder

RATE = 8000
FRAME_MS = 20


def tone(ms: int, hz: float) -> bytes:
    t = np.arange(ms * RATE // 1000) / RATE
    pcm = (8000 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()
    return pcm16_to_ulaw(pcm)


def silence(ms: int) -> bytes:
    return pcm16_to_ulaw(bytes(ms * RATE // 1000 * 2))


def channels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (2, RATE, 2)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    return samples[:, 0], samples[:, 1]


def loud_ms(track: np.ndarray) -> list[int]:
    """Start (ms) of every 20 ms window with sound in it."""
    window = RATE * FRAME_MS // 1000
    return [
        start * FRAME_MS
        for start in range(len(track) // window)
        if np.abs(track[start * window : (start + 1) * window].astype(int)).mean() > 500
    ]


async def play_caller(recorder: CallRecorder, start_ms: int, end_ms: int, speech: range) -> None:
    caller_voice = tone(end_ms - start_ms, 300)
    for at in range(start_ms, end_ms, FRAME_MS):
        offset = (at - start_ms) * RATE // 1000
        frame = caller_voice[offset : offset + 160] if at in speech else silence(FRAME_MS)
        recorder.caller(frame, at)
        while recorder.backlog:  # noqa: ASYNC110  (real frames come 20 ms apart: the disk keeps up)
            await asyncio.sleep(0.001)


async def test_caller_left_agent_right_where_they_spoke_and_no_cut_off_audio(
    tmp_path: Path,
) -> None:
    path = tmp_path / "CA1.wav"
    recorder = CallRecorder(path)
    await play_caller(recorder, 0, 200, range(0))
    recorder.agent(tone(1000, 700))  # sent at 200 ms: plays 200..1200, faster than real time
    await play_caller(recorder, 200, 600, range(0))
    recorder.cleared()  # the caller barged in at 600 ms: Twilio dropped 600..1200
    await play_caller(recorder, 600, 2000, range(600, 1400))
    recorder.agent(tone(300, 700))  # the answer, sent at 2000 ms
    await play_caller(recorder, 2000, 3000, range(0))
    await recorder.close()

    left, right = channels(path)
    assert len(left) == 3000 * RATE // 1000  # the stream's length, to the sample
    assert loud_ms(left) == list(range(600, 1400, FRAME_MS))
    assert loud_ms(right) == [*range(200, 600, FRAME_MS), *range(2000, 2300, FRAME_MS)]


async def test_a_new_stream_of_the_same_call_continues_its_recording(tmp_path: Path) -> None:
    path = tmp_path / "CA2.wav"
    first = CallRecorder(path)
    await play_caller(first, 0, 1000, range(0, 1000))
    await first.close()
    second = CallRecorder(path)  # the caller back from a transfer: stream time starts at 0
    await play_caller(second, 0, 500, range(0))
    second.agent(tone(200, 700))
    await play_caller(second, 500, 1000, range(0))
    await second.close()
    left, right = channels(path)
    assert len(left) == 2000 * RATE // 1000
    assert loud_ms(left) == list(range(0, 1000, FRAME_MS))
    assert loud_ms(right) == list(range(1500, 1700, FRAME_MS))


async def test_long_calls_are_written_out_as_they_go(tmp_path: Path) -> None:
    recorder = CallRecorder(tmp_path / "CA3.wav")
    await play_caller(recorder, 0, 60_000, range(0))
    # Never more than a flush's worth of audio waits in memory.
    assert len(recorder._caller) <= 1000 * RATE // 1000 * 2
    await recorder.close()
    assert (tmp_path / "CA3.wav").stat().st_size == 44 + 60_000 * RATE // 1000 * 4
