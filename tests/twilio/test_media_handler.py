"""The media socket handler on its own, with a call that records what reaches it."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from bridge.config import Settings
from bridge.twilio import messages
from bridge.twilio.media import MediaStreamHandler, StartCall, TwilioAudioSink
from bridge.twilio.messages import StartInfo
from bridge.twilio.tokens import CallIdentity, CallTokens
from tests.support.loopback import serving


class RecordingCall:
    """A call whose first key press fails, as a bug in handling it would."""

    def __init__(self) -> None:
        self.digits: list[str] = []
        self.closed_because: str | None = None

    async def on_audio(self, ulaw: bytes, timestamp_ms: float) -> None:
        pass

    async def on_dtmf(self, digit: str) -> None:
        self.digits.append(digit)
        if len(self.digits) == 1:
            raise RuntimeError("a bug")

    def on_mark(self, name: str) -> None:
        pass

    async def close(self, reason: str) -> None:
        self.closed_because = reason


async def never_spent(call_sid: str, stream_sid: str) -> bool:
    return True


async def run_stream(start_call: StartCall, *frames: str) -> aiohttp.WSMessage:
    """Send `frames` to a media handler; returns what ends the socket on our side."""
    settings = Settings(_env_file=None, TWILIO_SKIP_SIGNATURE=True)  # type: ignore[call-arg]
    handler = MediaStreamHandler(settings, CallTokens(b"k" * 32, never_spent), start_call)
    app = web.Application()
    app.router.add_get("/twilio/media", handler.handle)
    async with (
        serving(app) as url,
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{url}/twilio/media") as ws,
    ):
        for frame in frames:
            await ws.send_str(frame)
        return await ws.receive(timeout=10)


START = messages.start_message("MZ1", "CA1", "AC1", {})


async def test_a_failure_handling_one_frame_does_not_end_the_call() -> None:
    call = RecordingCall()

    async def start_call(
        start: StartInfo, identity: CallIdentity, sink: TwilioAudioSink
    ) -> RecordingCall:
        return call

    await run_stream(
        start_call,
        messages.connected_message(),
        START,
        messages.dtmf_message("MZ1", 2, "1"),
        messages.dtmf_message("MZ1", 3, "2"),
        messages.stop_message("MZ1", 4, "CA1", "AC1"),
    )
    assert call.digits == ["1", "2"]
    assert call.closed_because == "stop"


async def test_a_call_that_cannot_start_ends_the_stream_so_twilio_goes_on() -> None:
    async def start_call(
        start: StartInfo, identity: CallIdentity, sink: TwilioAudioSink
    ) -> RecordingCall:
        raise ConnectionError("the call store is down")

    ended = await run_stream(start_call, messages.connected_message(), START)
    assert ended.type is aiohttp.WSMsgType.CLOSE
