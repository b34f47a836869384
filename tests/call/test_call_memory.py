"""A finished call's objects are freed at once, by reference counting, not by the collector.

The server runs the full garbage-collection pass rarely (it stalls every live call's frames),
so anything a call leaves in a reference cycle would stay in memory until that pass.
"""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from pathlib import Path

from bridge.audio.wav import write_wav
from bridge.bench.voice import buzz
from bridge.demo.local import local_bridge
from bridge.sim.calls import place_call
from bridge.sim.script import PlayAudio
from tests.support.bridges import bridge_settings

CALLS = 2


async def test_finished_calls_leave_no_bridge_objects_for_the_garbage_collector(
    tmp_path: Path,
) -> None:
    line = tmp_path / "line.wav"
    write_wav(line, buzz(1200) + bytes(16_000), 8000)  # a turn the VAD hears, then silence
    settings = bridge_settings(
        tmp_path, STT_PROVIDER="instant", TTS_PROVIDER="instant", BRIDGE_AGENT="instant"
    )
    async with local_bridge(settings) as bridge:
        tts = bridge.services.speech.caller_tts
        script = [PlayAudio(line)]
        await place_call(bridge.twilio, script, tts, speed=8.0)  # first-call caches
        gc.collect()
        # Held until the end: what earlier tests left behind (a fake server a fixture frees
        # late) cannot turn into garbage while this test counts its own calls'.
        earlier = [obj for obj in gc.get_objects() if _ours(obj)]
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            reports = [
                await place_call(bridge.twilio, script, tts, speed=8.0) for _ in range(CALLS)
            ]
            async with asyncio.timeout(5):
                # The caller's side ends first; the bridge tears its side down just after.
                while bridge.services.live:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            gc.collect()
            left = Counter(type(obj).__qualname__ for obj in gc.garbage if _ours(obj))
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            del earlier

    assert all(report.turns for report in reports)
    assert left == Counter()


def _ours(obj: object) -> bool:
    module = type(obj).__module__
    return isinstance(module, str) and module.startswith("bridge.")
