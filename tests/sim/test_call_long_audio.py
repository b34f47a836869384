"""`bridge call --audio` plays a WAV of any length to its end: a caller who speaks, stays quiet
for 22 s (longer than the old 20 s wait) and speaks again is heard both times."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bridge.audio.wav import read_wav_mono, write_wav
from bridge.cli import main

ROOT = Path(__file__).resolve().parents[2]
SPEECH = ROOT / "corpus" / "speech" / "clips" / "ps-goforward.wav"  # a real voice, 2.6 s
RATE = 16_000


def test_a_long_wav_is_played_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    speech = read_wav_mono(SPEECH, RATE)
    long_wav = tmp_path / "long.wav"
    write_wav(long_wav, speech + bytes(2 * RATE * 22) + speech, RATE)
    monkeypatch.chdir(ROOT)  # the shipped dialplans
    for name, value in {
        "STT_PROVIDER": "instant",
        "TTS_PROVIDER": "instant",
        "BRIDGE_DATA_DIR": str(tmp_path / "var"),
        "DIALPLANS_DIR": str(ROOT / "dialplans"),
    }.items():
        monkeypatch.setenv(name, value)

    code = main(
        ["--env-file", os.devnull, "call", "--audio", str(long_wav), "--json", "--speed", "8"]
    )

    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    spoken = [turn for turn in report["turns"] if turn["source"] == "speech" and turn["caller"]]
    assert len(spoken) == 2, report["turns"]  # both utterances, 22 s apart, were turns
    assert all(turn["agent"] for turn in spoken)  # and each was answered
