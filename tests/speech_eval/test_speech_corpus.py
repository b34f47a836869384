from pathlib import Path

import numpy as np
import pytest

from bridge.audio.wav import write_wav
from bridge.speech_eval.corpus import (
    REPO_CORPUS,
    Clip,
    babble_talkers,
    load_corpus,
    read_clip,
    read_manifest,
    write_manifest,
)


def test_the_repository_ships_real_read_speech_with_its_words():
    clips = read_manifest(REPO_CORPUS)
    assert {clip.voice for clip in clips} == {"human"}
    assert len({clip.speaker for clip in clips}) >= 3
    assert all(clip.path.is_file() and clip.text for clip in clips)
    audio = read_clip(clips[0])
    assert audio.dtype == np.float32 and 0.01 < np.max(np.abs(audio)) <= 1.0


def test_clips_whose_audio_is_missing_are_left_out(tmp_path: Path):
    built = tmp_path / "built"
    present = Clip(id="a", file="clips/a.wav", text="hello", speaker="s", voice="tts", source="t")
    absent = present.model_copy(update={"id": "b", "file": "clips/b.wav"})
    write_manifest(built, [present, absent])
    (built / "clips").mkdir()
    write_wav(built / "clips" / "a.wav", bytes(3200), 16000)
    ids = [clip.id for clip in load_corpus(built, repo=tmp_path / "none")]
    assert ids == ["a"]


def test_a_bad_manifest_line_names_its_file_and_line(tmp_path: Path):
    (tmp_path / "manifest.jsonl").write_text('\n{"id": "x", "unknown": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"manifest.jsonl:2"):
        read_manifest(tmp_path)


def test_babble_behind_a_clip_is_other_speakers_real_speech():
    clips = read_manifest(REPO_CORPUS)
    cards = next(clip for clip in clips if clip.speaker == "cards")
    talkers = babble_talkers(clips, cards)
    assert talkers and all(t.speaker != "cards" and t.voice == "human" for t in talkers)
    readers = {c.speaker for c in clips if c.kind == "read"}
    assert {t.speaker for t in talkers} == readers - {"cards"}
