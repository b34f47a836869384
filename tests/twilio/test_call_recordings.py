"""Recordings of real calls, with consent, over HTTP against the real app: the announcement is
the call's first words (and in its record), the stereo WAV is served to the admin token only,
and the bridge deletes it after the dialplan's retention."""

from __future__ import annotations

import shutil
import time
import wave
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from bridge.audio.codec import pcm16_to_ulaw
from bridge.call.retention import DAY_S, sweep_recordings
from bridge.demo.local import local_bridge
from bridge.dialplan.loader import DialplanError, load_dialplans
from tests.observability.conftest import REPO, instant_settings
from tests.support.media_stream import record_when, stream
from tests.support.twilio_side import answer_call

ANNOUNCEMENT = "This call is recorded so we can train our staff."


def recorded_dialplans(tmp_path: Path) -> Path:
    folder = tmp_path / "dialplans"
    shutil.copytree(REPO / "dialplans", folder)
    acme = folder / "acme.yaml"
    acme.write_text(
        acme.read_text()
        + f"recording: {{enabled: true, announcement: {ANNOUNCEMENT}, retention_days: 7}}\n"
    )
    return folder


async def test_a_recorded_call_is_announced_recorded_in_stereo_and_served_to_the_admin(
    tmp_path: Path,
) -> None:
    settings = instant_settings(tmp_path).model_copy(
        update={"dialplans_dir": recorded_dialplans(tmp_path)}
    )
    voice = pcm16_to_ulaw((8000 * np.sin(np.arange(160) / 3)).astype("<i2").tobytes())
    async with local_bridge(settings) as bridge, aiohttp.ClientSession() as http:
        answered = await answer_call(bridge.twilio, http)
        call_sid = answered.call_sid
        async with stream(
            bridge, http, call_sid, answered.stream_url, answered.parameters
        ) as caller:
            for at in range(0, 2000, 20):
                await caller.audio(voice if 1000 <= at < 1200 else bytes([0xFF] * 160), at)
            await record_when(bridge, call_sid, lambda r: bool(r.turns))
        record = await record_when(bridge, call_sid, lambda r: r.status != "active")
        assert record.turns[0].agent.startswith(ANNOUNCEMENT + " Thanks for calling Acme")

        url = f"{bridge.twilio.bridge_url}/api/calls/{call_sid}/recording.wav"
        async with http.get(url) as refused:
            assert refused.status == 401
        admin = {"Authorization": f"Bearer {bridge.twilio.admin_token}"}
        async with http.get(url, headers=admin) as response:
            assert response.status == 200 and response.content_type == "audio/wav"
            body = await response.read()
        async with http.get(url.replace(call_sid, "CA" + "0" * 32), headers=admin) as missing:
            assert missing.status == 404
        path = bridge.services.recordings_dir / f"{call_sid}.wav"
        with wave.open(str(path), "rb") as wav:
            assert (wav.getnchannels(), wav.getframerate()) == (2, 8000)
            frames = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2)
        assert len(body) == path.stat().st_size
        left = np.abs(frames[:, 0].astype(int))
        assert left[8000:9600].mean() > 500 and left[:8000].mean() < 50  # the caller at 1 s

        store, plans = bridge.services.store, bridge.services.dialplans
        folder = bridge.services.recordings_dir
        assert await sweep_recordings(folder, store, plans, time.time() + 6 * DAY_S) == 0
        assert await sweep_recordings(folder, store, plans, time.time() + 8 * DAY_S) == 1
        assert not path.exists()


def test_recording_with_the_greeting_in_twiml_is_a_dialplan_problem(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("name: x\ngreet_in_twiml: true\nrecording: {enabled: true}\n")
    with pytest.raises(DialplanError, match="greet_in_twiml"):
        load_dialplans(tmp_path)
