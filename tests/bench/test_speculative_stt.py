"""Speculative transcription: STT starts when the caller falls silent; its result is used when
they stay silent and thrown away when they go on. Counted at the speech protocol seam."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import numpy as np

from bridge.audio.phone import PHONE_RATE
from bridge.bench.caller import BenchCall, CallPlan, Pacer
from bridge.bench.dialplan import write_bench_dialplan
from bridge.bench.voice import buzz, payloads
from bridge.config import Settings
from bridge.demo.local import local_bridge
from bridge.sim.handshake import Target
from bridge.speech.base import RecognitionHints, Transcript
from bridge.speech.factory import SpeechModels
from bridge.speech.instant import InstantTTS
from bridge.speech.pool import ModelWorkerPool

SPEED = 4.0


class CountingSTT:
    """Names the audio it heard by its length, and remembers every request. `busy`: it says
    its cores are (a local recogniser's `SharedCores`)."""

    def __init__(self, busy: bool = False) -> None:
        self.heard: list[int] = []
        self.busy = busy

    def for_call(self, hints: RecognitionHints) -> CountingSTT:
        return self

    async def transcribe(self, pcm16: bytes, sample_rate: int) -> Transcript:
        self.heard.append(len(pcm16))
        return Transcript(text=f"heard {len(pcm16)} bytes")


def silence(ms: int) -> bytes:
    return np.zeros(PHONE_RATE * ms // 1000, dtype="<i2").tobytes()


async def one_turn(
    tmp_path: Path, line: bytes, busy: bool = False
) -> tuple[CountingSTT, list[str]]:
    """One caller turn into a bridge with instant speech; the STT's requests and the turns."""
    stt = CountingSTT(busy)
    pool = ModelWorkerPool(1, 4, name="test")
    speech = SpeechModels(pool, stt, InstantTTS())
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        DIALPLANS_DIR=write_bench_dialplan(tmp_path / "dialplans", silence_ms=600),
        BRIDGE_DATA_DIR=tmp_path / "data",
        BRIDGE_AGENT="instant",
    )
    try:
        async with local_bridge(settings, speech) as bridge:
            side = bridge.twilio
            target = Target(side.bridge_url, side.account_sid, side.auth_token)
            plan = CallPlan(line=payloads(line), duration_s=60, barge_every=0, max_turns=1)
            pacer = Pacer(speed=SPEED)
            ticking = asyncio.create_task(pacer.run())
            call = BenchCall(target, plan)
            try:
                async with aiohttp.ClientSession() as http:
                    result = await call.run(http, pacer)
            finally:
                ticking.cancel()
            assert result.errors == [] and result.completed
            assert len(result.turn_ms) == 1  # the caller's turn was answered
            record = None
            for _ in range(50):  # the bridge closes the record just after the socket
                record = await bridge.services.store.get(call.call_sid)
                if record is not None and record.status != "active":
                    break
                await asyncio.sleep(0.05)
            assert record is not None
            return stt, [turn.caller for turn in record.turns if turn.caller]
    finally:
        pool.close()


async def test_speculative_transcript_is_used_when_the_caller_stays_silent(
    tmp_path: Path,
) -> None:
    stt, callers = await one_turn(tmp_path, buzz(1000))

    # Transcribed once, when the silence began: not again when the turn ended.
    assert len(stt.heard) == 1
    assert callers == [f"heard {stt.heard[0]} bytes"]


async def test_speculative_transcript_is_discarded_when_the_caller_resumes(
    tmp_path: Path,
) -> None:
    stt, callers = await one_turn(tmp_path, buzz(700) + silence(300) + buzz(700))

    # The pause started a transcription of the first half; speech resumed, so the turn's
    # words come from the second speculation, over the whole utterance.
    assert len(stt.heard) == 2
    assert stt.heard[0] < stt.heard[1]
    assert callers == [f"heard {stt.heard[1]} bytes"]


async def test_a_busy_recogniser_is_not_asked_about_a_pause_of_one_quiet_frame(
    tmp_path: Path,
) -> None:
    line = buzz(700) + silence(20) + buzz(700)
    idle, _ = await one_turn(tmp_path / "idle", line)
    busy, callers = await one_turn(tmp_path / "busy", line, busy=True)

    # Idle, it is asked at once, even about the dip; busy, speech resumed (onset_ms later)
    # before it was asked, so only the end of the turn was transcribed.
    assert len(idle.heard) == 2
    assert len(busy.heard) == 1
    assert callers == [f"heard {busy.heard[0]} bytes"]
