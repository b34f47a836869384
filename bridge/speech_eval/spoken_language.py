"""How well the local voice is understood in another language, over the phone line.

    python -m bridge.speech_eval.spoken_language [--language es]
        [--voices piper:en-us,kokoro:es,espeak:es]

A line's own sentences in that language (its fixed phrases and the rules agent's answers)
are spoken by each voice, put through the phone line (300-3400 Hz, 8 kHz mu-law, as `bridge
wer` does) and transcribed by the multilingual recogniser in that language. The word error
rate says how much of what the agent said a caller would make out. A voice is ENGINE:RULES:
`piper` (the bundled English voice reading with espeak-ng's RULES; `piper:en-us` is how
every line spoke before), `kokoro` (Kokoro-82M reading RULES' phonemes; `kokoro:es:jf_alpha`
names its speaker) or `espeak` (espeak-ng's own voice for RULES).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
import unicodedata

import numpy as np

from bridge.agent.phrases import phrases_for
from bridge.audio.phone import PHONE_RATE
from bridge.dialplan.language import DEFAULT_TEXTS
from bridge.dialplan.voice_settings import LanguageVoice, VoiceSettings
from bridge.speech.base import RecognitionHints
from bridge.speech.piper_tts import PiperTTS
from bridge.speech.pool import ModelWorkerPool
from bridge.speech.whisper_stt import WhisperSTT
from bridge.speech_eval.phone_line import phone_line
from bridge.speech_eval.wer import word_errors


def sentences(language: str) -> list[str]:
    """What a line in `language` says: its fixed phrases and the rules agent's answers, with
    sample values in their blanks (no digits: those are scored by `bridge wer`)."""
    texts = [t for t in DEFAULT_TEXTS.get(language, {}).values() if isinstance(t, str)]
    texts += [t for v in DEFAULT_TEXTS.get(language, {}).values() if isinstance(v, list) for t in v]
    p = phrases_for(language)
    fill = {
        "marker": p.ask_marker,
        "key": p.key_names["#"],
        "department": "ventas" if language == "es" else "sales",
        "departments": p.spoken_list(["ventas", "facturación", "soporte técnico"])
        if language == "es"
        else p.spoken_list(["sales", "billing", "tech support"]),
        "question": p.verify_question.format(ask_for=p.ask_for["zip"], marker=p.verify_marker),
    }
    for template in (p.ask, p.ask_again, p.which_department, p.connecting, p.mismatch):
        texts.append(template.format(**fill))
    texts += [p.anything_else, p.checking, p.cannot_look_up, p.not_connected, p.not_valid]
    texts += [p.not_allowed, p.backend_down, p.message_taken, p.confirm_end]
    return [t for t in dict.fromkeys(texts) if "{" not in t]


def _plain(text: str) -> str:
    """Accents off (the scorer keeps a-z only), so "está" and "esta" are one word."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


async def measure(
    language: str, voices: list[str], model: str, threads: int
) -> list[tuple[str, float, float, list[tuple[str, str]]]]:
    """(voice, WER, synthesis seconds per second of speech, (said, heard) pairs) per voice."""
    pool = ModelWorkerPool(1, 0, name="spoken")
    results = []
    try:
        base = PiperTTS(pool).steady()
        stt = WhisperSTT(pool, threads=threads).for_call(
            RecognitionHints(model=model, language=language)
        )
        texts = sentences(language)
        for name in voices:
            engine, rules, speaker = [*name.split(":"), "", ""][:3]
            choice = LanguageVoice.model_validate(
                {"engine": engine, "pronounce": rules, "speaker": speaker}
            )
            voice = base.for_voice(VoiceSettings(languages={language: choice}), language)
            pairs, synth_s, audio_s = [], 0.0, 0.0
            for text in texts:
                start = time.perf_counter()
                pcm = b"".join([c async for c in voice.synthesize(text)])
                synth_s += time.perf_counter() - start
                audio = np.frombuffer(pcm, "<i2").astype(np.float64) / 32768
                audio_s += len(audio) / voice.sample_rate
                heard = await stt.transcribe(phone_line(audio, voice.sample_rate), PHONE_RATE)
                pairs.append((text, heard.text))
            errors = [word_errors(_plain(said), _plain(heard)) for said, heard in pairs]
            rate = sum(e.total for e in errors) / sum(e.reference_words for e in errors)
            results.append((name, rate, synth_s / audio_s, pairs))
    finally:
        pool.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", default="es")
    parser.add_argument(
        "--voices",
        default="piper:en-us,piper:es,kokoro:es,kokoro:es:jf_alpha,espeak:es,espeak:es-419",
        help="ENGINE:RULES[:SPEAKER], comma-separated (piper, kokoro or espeak; espeak-ng's "
        "rules; Kokoro's speaker)",
    )
    parser.add_argument("--model", default="base", help="a multilingual recogniser")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--errors", action="store_true", help="list what was heard wrong")
    args = parser.parse_args(argv)
    voices = [v for v in re.split(r"[,\s]+", args.voices) if v]
    results = asyncio.run(measure(args.language, voices, args.model, args.threads))
    print(f"{len(sentences(args.language))} {args.language} sentences, recogniser {args.model}")
    print(f"{'voice':<16} {'WER':>7} {'synth x real time':>18}")
    for name, rate, speed, pairs in results:
        print(f"{name:<16} {rate:>6.1%} {speed:>18.2f}")
        if args.errors:
            for said, heard in pairs:
                if word_errors(_plain(said), _plain(heard)).total:
                    print(f"    said:  {said}\n    heard: {heard}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
