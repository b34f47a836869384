"""`bridge eval --turn-model`: how well the turn-end model hears phone audio.

Complete sentences, the same sentences cut mid-flow at a gap between words (what a caller
who pauses mid-thought sounds like), and fragments spoken on their own, all in piper's voice
through the phone path (8 kHz mu-law, as Twilio sends it), each followed by the 100 ms of
silence the turn detector hands on. Prints how many the model judged right and what one
verdict costs.
"""

from __future__ import annotations

import time

import numpy as np
from pydantic import BaseModel

from bridge.audio.codec import pcm16_to_ulaw, ulaw_to_pcm16
from bridge.audio.resample import resample
from bridge.speech.base import TextToSpeech
from bridge.speech.turn_model import SmartTurn

RATE = 8000
TAIL = bytes(RATE // 10 * 2)  # 100 ms of silence, as the detector keeps after speech
VOICED = 300  # PCM16 level above which a sample is speech

SENTENCES = (
    "Hi, I'd like to check on my order.",
    "It's order 4 5 7 2.",
    "Can you put me through to the billing department?",
    "I was charged twice for the same thing last month.",
    "My package was supposed to arrive on Tuesday but it never came.",
    "What time do you close on Saturdays?",
    "I need to change the delivery address on my account.",
    "Could you tell me when my refund will be processed?",
    "The tracking number you sent me doesn't work.",
    "I'd like to cancel my subscription please.",
    "Yes, that's the one I ordered last week.",
    "My zip code is 9 7 2 0 1.",
    "Is there someone I can talk to about a damaged item?",
    "I moved to a new apartment and need to update my details.",
    "The box arrived open and half the items were missing.",
    "Thanks, that's all I needed today.",
    "Can I pay the remaining balance with a different card?",
    "I've been waiting on hold for twenty minutes already.",
    "Please send the replacement to my work address instead.",
    "Why was my order shipped to the wrong city?",
)
FRAGMENTS = (
    "I'd like to check on",
    "My order number is",
    "It's order 4 5",
    "I was charged twice for",
    "Can you put me through to",
    "The package was supposed to arrive on",
    "I need to change the",
    "Could you tell me when my",
    "And the tracking number is",
    "I'd like to cancel my",
    "So what I want is",
    "My zip code is 9 7",
    "I moved to a new apartment and",
    "The box arrived open and",
    "Can I pay the remaining balance with",
    "I've been waiting on hold for",
    "Please send the replacement to",
    "Why was my order shipped to",
    "Um, so, the thing is",
    "I called yesterday because",
)


class ClipSet(BaseModel):
    clips: int
    judged_right: int
    probabilities: list[float]


class TurnModelCheck(BaseModel):
    threshold: float
    complete: ClipSet  # right: P >= threshold
    cut_mid_sentence: ClipSet  # right: P < threshold
    fragments_said_alone: ClipSet  # right: P < threshold (falling pitch: the hard case)
    verdict_ms_p50: float  # wall time of one verdict on this machine, features included
    verdict_cpu_ms_p50: float  # CPU time of this process for one verdict (all threads)


async def check_turn_model(
    model: SmartTurn, tts: TextToSpeech, threshold: float = 0.5
) -> TurnModelCheck:
    timings: list[float] = []
    cpu: list[float] = []

    async def judge(pcm: np.ndarray) -> float:
        started, started_cpu = time.perf_counter(), time.process_time()
        probability = await model.complete(pcm.astype("<i2").tobytes() + TAIL, RATE)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        return round(probability, 3)

    complete, cut, alone = [], [], []
    for text in SENTENCES:
        speech = await _phone_speech(tts, text)
        complete.append(await judge(speech))
        cut.append(await judge(_cut_mid_sentence(speech)))
    for text in FRAGMENTS:
        alone.append(await judge(await _phone_speech(tts, text)))
    return TurnModelCheck(
        threshold=threshold,
        complete=_clips(complete, lambda p: p >= threshold),
        cut_mid_sentence=_clips(cut, lambda p: p < threshold),
        fragments_said_alone=_clips(alone, lambda p: p < threshold),
        verdict_ms_p50=round(float(np.median(timings)), 1),
        verdict_cpu_ms_p50=round(float(np.median(cpu)), 1),
    )


def _clips(probabilities: list[float], right: object) -> ClipSet:
    judged = sum(1 for p in probabilities if right(p))  # type: ignore[operator]
    return ClipSet(clips=len(probabilities), judged_right=judged, probabilities=probabilities)


async def _phone_speech(tts: TextToSpeech, text: str) -> np.ndarray:
    """The line as a phone carries it (8 kHz mu-law), without leading or trailing silence."""
    pcm = b"".join([chunk async for chunk in tts.synthesize(text)])
    phone = ulaw_to_pcm16(pcm16_to_ulaw(resample(pcm, tts.sample_rate, RATE)))
    samples = np.frombuffer(phone, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > VOICED)
    return samples[loud[0] : loud[-1] + 1] if loud.size else samples


def _cut_mid_sentence(speech: np.ndarray) -> np.ndarray:
    """The speech up to a gap between words in the middle (30-80%) of the sentence."""
    frames = speech[: len(speech) // 80 * 80].reshape(-1, 80).astype(np.float64)
    rms = np.sqrt((frames**2).mean(axis=1))  # 10 ms frames
    quiet = max(150.0, float(np.percentile(rms, 30)) * 0.5)
    gaps = []
    index, end = int(len(rms) * 0.3), int(len(rms) * 0.8)
    while index < end:
        if rms[index] < quiet:
            start = index
            while index < len(rms) and rms[index] < quiet:
                index += 1
            if index - start >= 3:
                gaps.append(start)
        index += 1
    if gaps:
        at = gaps[len(gaps) // 2]
    else:
        middle = rms[int(len(rms) * 0.4) : int(len(rms) * 0.7)]
        at = int(np.argmin(middle)) + int(len(rms) * 0.4)
    return speech[: at * 80]
