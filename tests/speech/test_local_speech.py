"""The local models (piper, faster-whisper), loaded once per session by the `speech` fixture."""

from __future__ import annotations

import re

import pytest

from bridge.audio.codec import pcm16_to_ulaw, ulaw_to_pcm16
from bridge.audio.resample import resample
from bridge.speech.factory import SpeechModels
from bridge.speech.piper_tts import PiperTTS

pytestmark = pytest.mark.models

THREE_SENTENCES = (
    "Thanks for calling. Your order has shipped. Is there anything else I can help with?"
)


async def _spoken(tts: PiperTTS, text: str) -> bytes:
    return b"".join([chunk async for chunk in tts.synthesize(text)])


def _over_the_phone(pcm16: bytes, rate: int) -> bytes:
    """What reaches us from a caller: 8 kHz mu-law, decoded back to PCM16."""
    return ulaw_to_pcm16(pcm16_to_ulaw(resample(pcm16, rate, 8000)))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


async def test_piper_speaks_pcm16_at_22050_hz_one_chunk_per_sentence(
    speech: SpeechModels,
) -> None:
    assert isinstance(speech.tts, PiperTTS)
    chunks = [chunk async for chunk in speech.tts.synthesize(THREE_SENTENCES)]

    assert speech.tts.sample_rate == 22_050
    assert len(chunks) == 3
    assert all(len(chunk) > 22_050 // 4 * 2 and len(chunk) % 2 == 0 for chunk in chunks)


async def test_piper_yields_the_first_sentence_before_the_others_are_synthesized(
    speech: SpeechModels,
) -> None:
    assert isinstance(speech.tts, PiperTTS)
    before = speech.pool.stats().completed
    sentences = speech.tts.synthesize(THREE_SENTENCES)

    first = await anext(sentences)
    done_at_first_chunk = speech.pool.stats().completed - before
    rest = [chunk async for chunk in sentences]

    assert first and len(rest) == 2
    # One inference job had run when the first chunk arrived; the other two ran after.
    assert done_at_first_chunk == 1
    assert speech.pool.stats().completed - before > 3


async def test_slower_voice_speaks_the_same_text_longer_on_the_same_model(
    speech: SpeechModels,
) -> None:
    assert isinstance(speech.tts, PiperTTS)
    slow = speech.tts.with_speed(0.5)

    normal_audio = await _spoken(speech.tts, "Your order has shipped.")
    slow_audio = await _spoken(slow, "Your order has shipped.")

    assert len(slow_audio) > 1.5 * len(normal_audio)


async def test_simulated_callers_say_a_line_the_same_way_every_time(
    speech: SpeechModels,
) -> None:
    line = "It's order 4 5 7 2."
    assert isinstance(speech.caller_tts, PiperTTS)
    agent_takes = {await _spoken(speech.tts, line) for _ in range(3)}
    caller_takes = {await _spoken(speech.caller_tts, line) for _ in range(3)}

    assert len(agent_takes) > 1  # the agent's voice keeps piper's natural variation
    assert len(caller_takes) == 1


async def test_whisper_transcribes_piper_speech_heard_over_the_phone(
    speech: SpeechModels,
) -> None:
    assert isinstance(speech.tts, PiperTTS)
    rate = speech.tts.sample_rate
    transfer = await _spoken(speech.tts, "Can you transfer me to the billing department?")
    order = await _spoken(speech.tts, "Check the status of order four five seven two.")

    heard_transfer = (await speech.stt.transcribe(_over_the_phone(transfer, rate), 8000)).text
    heard_order = (await speech.stt.transcribe(_over_the_phone(order, rate), 8000)).text

    assert {"transfer", "billing", "department"} <= set(_words(heard_transfer))
    assert {"status", "order"} <= set(_words(heard_order))
    assert "4572" in "".join(_words(heard_order))


async def test_whisper_returns_nothing_for_no_audio(speech: SpeechModels) -> None:
    assert (await speech.stt.transcribe(b"", 8000)).text == ""
