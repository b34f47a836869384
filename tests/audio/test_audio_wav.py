import wave
from pathlib import Path

import numpy as np

from bridge.audio.wav import interleave_stereo, read_wav_mono, write_wav


def _pcm(values: list[int]) -> bytes:
    return np.array(values, dtype="<i2").tobytes()


def test_stereo_recording_holds_caller_left_and_agent_right(tmp_path: Path):
    caller, agent = _pcm([100, 200, 300, 400]), _pcm([-50, -60])
    path = tmp_path / "call.wav"
    write_wav(path, interleave_stereo(caller, agent), 8000, channels=2)

    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    assert frames[:, 0].tolist() == [100, 200, 300, 400]
    assert frames[:, 1].tolist() == [-50, -60, 0, 0]  # the shorter track padded with silence


def test_stereo_file_reads_back_as_the_average_of_its_channels(tmp_path: Path):
    path = tmp_path / "stereo.wav"
    write_wav(path, interleave_stereo(_pcm([100, 1000]), _pcm([300, -1000])), 8000, channels=2)
    assert read_wav_mono(path, 8000) == _pcm([200, 0])


def test_8_and_24_bit_files_read_as_pcm16(tmp_path: Path):
    eight = tmp_path / "u8.wav"
    with wave.open(str(eight), "wb") as wav:
        wav.setparams((1, 1, 8000, 0, "NONE", "not compressed"))
        wav.writeframes(bytes([128, 192, 64]))  # unsigned: silence, +half, -half
    assert read_wav_mono(eight, 8000) == _pcm([0, 16384, -16384])

    twenty_four = tmp_path / "s24.wav"
    with wave.open(str(twenty_four), "wb") as wav:
        wav.setparams((1, 3, 8000, 0, "NONE", "not compressed"))
        wav.writeframes(b"\x00\x00\x40" + b"\x00\x00\xc0")  # +0.5, -0.5 full scale
    assert read_wav_mono(twenty_four, 8000) == _pcm([16384, -16384])


def test_four_channel_file_is_mixed_down(tmp_path: Path):
    path = tmp_path / "quad.wav"
    write_wav(path, _pcm([100, 200, 300, 400, 0, 0, 0, 40]), 8000, channels=4)
    assert read_wav_mono(path, 8000) == _pcm([250, 10])


def test_file_is_resampled_to_the_asked_rate(tmp_path: Path):
    path = tmp_path / "cd.wav"
    t = np.arange(44100) / 44100
    write_wav(path, (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes(), 44100)

    audio = np.frombuffer(read_wav_mono(path, 8000), dtype="<i2")
    assert abs(len(audio) - 8000) <= 2
    assert abs(np.sum((audio[:-1] < 0) & (audio[1:] >= 0)) - 440) <= 2
