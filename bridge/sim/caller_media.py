"""The simulated caller's media socket: Twilio's side of the stream, and waits on its clock.

One tick every 20 ms of stream time sends the caller's frame and echoes the marks of the agent
audio that has played; agent `media`, `mark` and `clear` frames are played into the `PhoneLine`.
The caller's script then waits on what was heard ("until the agent falls quiet") and reads the
latencies off the wall-clock times kept here.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable

import aiohttp

from bridge.audio.phone import FRAME_MS, PHONE_RATE
from bridge.call.speaker import REPLY_END_SUFFIX
from bridge.sim.line import PhoneLine
from bridge.twilio import messages

# Agent silence that means "the agent has finished", on the stream's clock and on the wall
# clock alike: at a fast replay speed the agent's next sentence may still be synthesizing.
QUIET_MS = 800
# Without end marks (another bridge) or after a reply cut short, this long with no agent audio.
QUIET_WALL_S = 3.0
REPLY_TIMEOUT_S = 20.0  # longest wait for an agent reply, in real seconds


class CallEnded(Exception):
    """The call ended while a step was waiting."""


class CallerMedia:
    """The stream's state as the caller's phone has it, and the loops that keep it."""

    def __init__(
        self,
        stream_sid: str,
        call_sid: str,
        account_sid: str,
        speed: float,
        show: Callable[[str], None],
    ) -> None:
        self._stream_sid = stream_sid
        self._call_sid = call_sid
        self._account_sid = account_sid
        self.tick_s = FRAME_MS / 1000 / speed
        self._show = show
        self.line = PhoneLine()
        self._ticked = asyncio.Event()
        self.ended = asyncio.Event()
        self._tick_wall: dict[int, float] = {}  # stream ms -> wall clock, for latencies
        self.clear_wall: list[float] = []
        self.first_media_after: dict[int, float] = {}
        self._last_media_wall = 0.0
        self._reply_end_wall = 0.0  # when the last reply's end mark was played
        self._seq = 1  # `connected` has no number, `start` is 1

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    async def send_keys(self, ws: aiohttp.ClientWebSocketResponse, digit: str) -> None:
        await ws.send_str(messages.dtmf_message(self._stream_sid, self.next_seq(), digit))

    async def send_stop(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        await ws.send_str(
            messages.stop_message(
                self._stream_sid, self.next_seq(), self._call_sid, self._account_sid
            )
        )

    async def pace(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """One tick every 20 ms of stream time: a caller frame out, agent audio played."""
        started = time.perf_counter()
        frames = 0
        while not ws.closed:
            now_ms = self.line.now_ms
            tick = self.line.tick()
            frames += 1
            payload = base64.b64encode(tick.frame).decode("ascii")
            await ws.send_str(
                messages.inbound_media_message(
                    self._stream_sid, self.next_seq(), frames, now_ms, payload
                )
            )
            self._tick_wall[now_ms] = time.perf_counter()
            for name in tick.echoes:
                if name.endswith(REPLY_END_SUFFIX):
                    self._reply_end_wall = time.perf_counter()
                await ws.send_str(
                    messages.mark_echo_message(self._stream_sid, self.next_seq(), name)
                )
            self._ticked.set()
            self._ticked.clear()
            delay = started + frames * self.tick_s - time.perf_counter()
            await asyncio.sleep(max(0.0, delay))

    async def receive(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                break
            message = messages.parse_outbound(frame.data)
            if message.event == "media":
                self.line.agent_media(base64.b64decode(message.media.payload))
                self._last_media_wall = time.perf_counter()
                self.first_media_after.setdefault(self.line.now_ms, self._last_media_wall)
            elif message.event == "mark":
                self.line.agent_mark(message.mark.name)
            elif message.event == "clear":
                self.clear_wall.append(time.perf_counter())
                self.line.clear()
        self.ended.set()

    # -- waiting, on the stream's clock ---------------------------------------------------

    async def until(
        self, condition: Callable[[], bool], timeout_s: float = REPLY_TIMEOUT_S
    ) -> bool:
        deadline = time.perf_counter() + timeout_s
        while not condition():
            if self.ended.is_set():
                raise CallEnded
            if time.perf_counter() > deadline:
                return False
            try:
                await asyncio.wait_for(self._ticked.wait(), timeout=1.0)
            except TimeoutError:
                continue
        return True

    async def spoken(self, pcm16: bytes) -> None:
        """Wait until the caller's line has played to its end, however long it is."""
        seconds = len(pcm16) / 2 / PHONE_RATE * self.tick_s / (FRAME_MS / 1000)
        await self.until(lambda: not self.line.caller_speaking, timeout_s=seconds + REPLY_TIMEOUT_S)

    async def stream_wait(self, ms: int) -> None:
        until = self.line.now_ms + ms
        await self.until(lambda: self.line.now_ms >= until)

    async def await_reply(self, since_ms: int) -> None:
        """Wait for agent audio after `since_ms`, then for it to finish and fall quiet."""
        replied = await self.until(lambda: self.heard_agent_after(since_ms))
        if not replied:
            self._show("(no reply from the agent)")
            return
        await self.agent_quiet()

    async def agent_quiet(self) -> None:
        """Wait until the agent's reply has played out (its end mark echoed), and a moment."""

        def quiet() -> bool:
            if self.line.agent_playing:
                return False
            if self.line.now_ms - (self.line.last_agent_audio_ms or 0) < QUIET_MS:
                return False
            if self._reply_end_wall >= self._last_media_wall:
                return True
            # A bridge that ends its replies with a mark has not finished this one (a filler
            # may play while the answer is still coming), unless a clear cut it short.
            cut = bool(self.clear_wall) and self.clear_wall[-1] >= self._last_media_wall
            if self._reply_end_wall and not cut:
                return False
            return time.perf_counter() - self._last_media_wall >= QUIET_WALL_S

        await self.until(quiet)

    async def agent_talking_for(self, ms: int) -> None:
        await self.until(lambda: self.line.agent_playing)
        await self.stream_wait(ms)

    def heard_agent_after(self, since_ms: int) -> bool:
        last = self.line.last_agent_audio_ms
        return last is not None and last >= since_ms

    def wall(self, stream_ms: int) -> float:
        return self._tick_wall.get(stream_ms, time.perf_counter())

    def latency_after(self, stream_ms: int) -> float | None:
        arrivals = [wall for at, wall in self.first_media_after.items() if at >= stream_ms]
        if not arrivals:
            return None
        return round((min(arrivals) - self.wall(stream_ms)) * 1000, 1)
