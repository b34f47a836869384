"""A call whose wiring fails after its record was opened: the record is closed, not left open."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.audio.wav import write_wav
from bridge.bench.voice import buzz
from bridge.demo.local import local_bridge
from bridge.sim.calls import place_call
from bridge.sim.script import PlayAudio
from tests.support.bridges import bridge_settings


def _broken_agent(*_args: object, **_kwargs: object) -> object:
    raise RuntimeError("agent misconfigured")


async def test_a_call_that_cannot_start_is_recorded_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = tmp_path / "line.wav"
    write_wav(line, buzz(600), 8000)
    settings = bridge_settings(tmp_path, STT_PROVIDER="instant", TTS_PROVIDER="instant")
    # Fault injection: building the agent is the last step of wiring a call.
    monkeypatch.setattr("bridge.services.build_agent", _broken_agent)
    async with local_bridge(settings) as bridge:
        report = await place_call(
            bridge.twilio, [PlayAudio(line)], bridge.services.speech.caller_tts, speed=8.0
        )
        record = await bridge.services.store.get(report.call_sid)
        assert not bridge.services.live

    assert record is not None
    assert (record.status, record.end_reason) == ("failed", "the call could not start")
