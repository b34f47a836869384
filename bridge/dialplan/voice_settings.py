"""A line's voice: the vendor, the voice file, its speed, and a voice per language it speaks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# espeak-ng's name for a language's pronunciation rules: "es", "es-419", "en-us", "pt-br"...
_RULES = r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$"


class LanguageVoice(_Strict):
    """How the local voice speaks one language (`voice.languages.<code>`)."""

    # "piper": a piper voice (`model`, else the line's); "espeak": espeak-ng's own voice for
    # the language (the `espeak` extra; robotic, costs nothing); "kokoro": Kokoro-82M reading
    # its phonemes (the `kokoro` extra; understood far better, ten times piper's CPU). Unset:
    # piper in its own language, else espeak, else kokoro, whichever is installed.
    engine: Literal["piper", "kokoro", "espeak"] | None = None
    # Kokoro's speaker: jm_kumo (default), jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro.
    speaker: Literal["", "jm_kumo", "jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro"] = ""
    # A piper voice file for this language (its `.onnx.json` beside it); else the line's.
    model: Path | None = None
    # espeak-ng rules the text is read with (`es-419`: Latin American); else the language's.
    pronounce: str = Field(default="", pattern=rf"({_RULES})|^$")


class VoiceSettings(_Strict):
    provider: Literal["local", "openai"] = "local"
    name: str = ""  # provider's voice name; empty for its default
    # A local voice other than the bundled English one: a piper `.onnx` file with its
    # `.onnx.json` beside it (relative paths are relative to the dialplan file).
    model: Path | None = None
    speed: float = Field(default=1.0, gt=0.25, le=4.0)
    # espeak-ng rules the piper voice reads text with; empty: the voice file's own.
    pronounce: str = Field(default="", pattern=rf"({_RULES})|^$")
    # Per language the line speaks (its `recognition.language`, or with `auto` each turn's).
    languages: dict[str, LanguageVoice] = Field(default_factory=dict)

    @field_validator("languages")
    @classmethod
    def _languages_are_codes(cls, languages: dict[str, LanguageVoice]) -> dict[str, LanguageVoice]:
        for code in languages:
            if not re.fullmatch(r"[a-z]{2}", code):
                raise ValueError(f"{code!r} is not an ISO 639-1 language code (es, fr, ...)")
        return languages
