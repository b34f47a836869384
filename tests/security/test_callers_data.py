"""What an attacker can make the bridge do with callers' data, over HTTP against the real app:
walk the order backend with `..`, forge log lines through an unsigned CallSid, read order ids
and numbers out of the logs, guess ZIPs across calls, read the call store from another user."""

from __future__ import annotations

import io
import logging
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bridge.demo.local import local_bridge
from bridge.logmask import MaskingFilter
from bridge.observability.logs import TEXT_FORMAT, CallSidFilter
from bridge.sim.calls import place_call
from bridge.sim.fake_llm import FakeLlm, FakeReply, FakeToolCall
from bridge.sim.script import PressKeys
from bridge.speech.factory import load_speech
from bridge.store import SQLITE_FILENAME
from tests.support.bridges import bridge_settings
from tests.support.keyed_calls import keyed_turn, playing, quick_dialplans
from tests.support.loopback import serving
from tests.support.twilio_side import answer_call, open_media, send_start

STRANGER = "+15555550123"  # on no order; order 4572's ZIP is 97205


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The bridge's log lines as `bridge serve` writes them (the CLI's filters and format)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(CallSidFilter())
    handler.addFilter(MaskingFilter())
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
async def order_backend() -> AsyncIterator[tuple[str, list[str]]]:
    """An HTTP order service that fails every lookup, and the paths it was asked for."""
    asked: list[str] = []

    async def any_path(request: web.Request) -> web.Response:
        asked.append(request.raw_path)
        return web.Response(status=500, text="down")

    app = web.Application()
    app.router.add_get("/{tail:.*}", any_path)
    # No access log: the bridge's logs are what is checked.
    async with serving(app, access_log=None) as url:
        yield f"{url}/api/orders", asked


@pytest.fixture
async def llm() -> AsyncIterator[FakeLlm]:
    async with FakeLlm() as server:
        yield server


async def test_order_ids_are_checked_before_the_backend_and_never_logged_whole(
    tmp_path: Path,
    order_backend: tuple[str, list[str]],
    llm: FakeLlm,
    logs: io.StringIO,
) -> None:
    url, asked = order_backend
    dialplans = quick_dialplans(tmp_path, f"orders:\n  type: http\n  url: {url}\n")
    settings = bridge_settings(
        tmp_path,
        dialplans,
        STT_PROVIDER="instant",
        TTS_PROVIDER="instant",
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=llm.openai_base_url,
    )
    # The model (talked into it by the caller) asks for order `..`, then for AB-77123.
    llm.script(
        "openai",
        FakeReply("", (FakeToolCall("check_order_status", {"order_id": ".."}),)),
        FakeReply("Sorry, I can't look that up."),
        FakeReply("", (FakeToolCall("check_order_status", {"order_id": "AB-77123"}),)),
        FakeReply("Sorry, our order system is down."),
    )
    speech = load_speech(settings)
    try:
        async with (
            local_bridge(settings, speech) as bridge,
            aiohttp.ClientSession() as http,
        ):
            answered = await answer_call(bridge.twilio, http, caller=STRANGER)
            async with await open_media(bridge.twilio, http) as ws, playing(ws):
                stream_sid = await send_start(ws, bridge.twilio, answered)
                dots = await keyed_turn(bridge, ws, stream_sid, "5#", answered.call_sid)
                letters = await keyed_turn(bridge, ws, stream_sid, "6#", answered.call_sid)
    finally:
        speech.close()
    assert dots.tools[0].result["error"].startswith("not a valid order number")
    assert asked == ["/api/orders/AB-77123"]  # `..` never reached it: no GET /api/
    assert letters.tools[0].result["error"] == "the order system is not answering right now"
    written = logs.getvalue()
    assert "order backend failed" in written
    assert "77123" not in written and "/api/orders/AB" not in written


async def test_an_unsigned_callsid_cannot_forge_a_log_line(
    tmp_path: Path, logs: io.StringIO
) -> None:
    settings = bridge_settings(tmp_path, STT_PROVIDER="instant", TTS_PROVIDER="instant")
    forged = "CAx\n2099-01-01 00:00:00,000 INFO bridge.twilio: answered for 5035550142"
    speech = load_speech(settings)
    try:
        async with local_bridge(settings, speech) as bridge, aiohttp.ClientSession() as http:
            url = f"{bridge.twilio.bridge_url}/twilio/voice"
            form = {"CallSid": forged, "From": STRANGER, "To": "+15555550100"}
            async with http.post(url, data=form) as response:  # no signature at all
                assert response.status == 403
    finally:
        speech.close()
    lines = logs.getvalue().splitlines()
    refusal = next(line for line in lines if "voice webhook refused" in line)
    assert "\\n2099-01-01" in refusal  # the CallSid is in its line, escaped
    assert not any(line.startswith("2099-01-01") for line in lines)
    assert "5035550142" not in logs.getvalue()


def test_alphanumeric_order_ids_and_national_numbers_are_masked() -> None:
    from bridge.logmask import mask

    line = mask("order AB-77123 for caller 5035550142 (UK 07700900123)")
    assert "77123" not in line and "5035550142" not in line and "07700900123" not in line
    assert "order **-***23" in line and "********42" in line


async def test_a_caller_gets_no_fresh_zip_guesses_by_calling_back(tmp_path: Path) -> None:
    settings = bridge_settings(
        tmp_path, quick_dialplans(tmp_path), STT_PROVIDER="instant", TTS_PROVIDER="instant"
    )
    speech = load_speech(settings)
    results = []
    try:
        async with local_bridge(settings, speech) as bridge, aiohttp.ClientSession() as http:
            for wrong_zip in ("10001#", "10002#", "10003#"):  # three calls, one guess each
                answered = await answer_call(bridge.twilio, http, caller=STRANGER)
                async with await open_media(bridge.twilio, http) as ws, playing(ws):
                    stream_sid = await send_start(ws, bridge.twilio, answered)
                    await keyed_turn(bridge, ws, stream_sid, "4572#", answered.call_sid)
                    turn = await keyed_turn(bridge, ws, stream_sid, wrong_zip, answered.call_sid)
                    results.append(turn.tools[0].result)
            answered = await answer_call(bridge.twilio, http, caller=STRANGER)
            async with await open_media(bridge.twilio, http) as ws, playing(ws):
                stream_sid = await send_start(ws, bridge.twilio, answered)
                fourth = await keyed_turn(bridge, ws, stream_sid, "4572#", answered.call_sid)
    finally:
        speech.close()
    assert [r.get("attempts_left") for r in results] == [2, 1, 0]
    assert fourth.tools[0].result["error"].startswith("too many failed verifications")
    assert "97205" not in fourth.agent


async def test_the_call_store_and_recordings_are_the_owners_only(tmp_path: Path) -> None:
    settings = bridge_settings(
        tmp_path, quick_dialplans(tmp_path), STT_PROVIDER="instant", TTS_PROVIDER="instant"
    )
    speech = load_speech(settings)
    recordings = settings.data_dir / "recordings"
    try:
        async with local_bridge(settings, speech) as bridge:
            await place_call(
                bridge.twilio, [PressKeys("4572#")], speech.caller_tts, recordings_dir=recordings
            )
    finally:
        speech.close()
    private = [settings.data_dir / SQLITE_FILENAME, *recordings.iterdir()]
    assert len(private) >= 2
    for path in [settings.data_dir, recordings, *private, *settings.data_dir.glob("*.db-*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
