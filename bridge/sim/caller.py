"""A simulated caller that speaks Twilio's exact protocol to a bridge.

It does what Twilio does for an inbound call: a signed voice webhook, then the media socket
from the TwiML (signed `wss://` URL, `connected` then `start` with the `<Parameter>`s, 20 ms
mu-law `media` frames with string numbers), marks echoed once the audio before them has
played, every mark flushed on `clear`, and `stop` when the call ends, including when the
bridge transfers or hangs up the call through Twilio's REST API.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from bridge.audio.phone import FRAME_MS, PHONE_RATE
from bridge.audio.wav import interleave_stereo, read_wav_mono, write_wav
from bridge.call.speaker import REPLY_END_SUFFIX
from bridge.records import CallRecord, TurnRecord
from bridge.sim.handshake import InboundCall, Target, stream_of
from bridge.sim.line import PhoneLine
from bridge.sim.report import CallerLine, CallReport
from bridge.sim.script import (
    HangUp,
    Interrupt,
    Overlay,
    PlayAudio,
    PressKeys,
    Quiet,
    Say,
    Step,
    Voicemail,
)
from bridge.sim.sounds import beep, line_audio, overlay_audio
from bridge.speech.base import TextToSpeech
from bridge.twilio import messages

log = logging.getLogger(__name__)

# Agent silence that means "the agent has finished", on the stream's clock and on the wall
# clock alike: at a fast replay speed the agent's next sentence may still be synthesizing.
QUIET_MS = 800
# Without end marks (another bridge) or after a reply cut short, this long with no agent audio.
QUIET_WALL_S = 3.0
REPLY_TIMEOUT_S = 20.0  # longest wait for an agent reply, in real seconds
GREETING_TIMEOUT_S = 5.0  # a bridge that greets starts within this
RESUME_WAIT_S = 6.0  # longest wait for the agent to resume after a sound cut it
PRINT_POLL_S = 0.25


class CallEnded(Exception):
    """The call ended while a step was waiting."""


class SimulatedCaller:
    def __init__(
        self,
        base_url: str,
        auth_token: str,
        account_sid: str,
        tts: TextToSpeech,
        *,
        caller: str = "+15555550123",
        called: str = "+15555550100",
        speed: float = 1.0,
        admin_token: str = "",
        call_ended_by_bridge: asyncio.Event | None = None,
        recordings_dir: Path | None = None,
        on_print: Callable[[str], None] | None = None,
        call: InboundCall | None = None,
        on_step_done: Callable[[Step], object] | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        target = Target(self._base, account_sid, auth_token, called)
        self._call = call or InboundCall(target, caller)
        self._on_step_done = on_step_done
        self._tts = tts
        self._tick_s = FRAME_MS / 1000 / speed
        self._admin_token = admin_token
        # Set by the fake Twilio API when the bridge updates this call (transfer, hang-up).
        self._ended_by_bridge = call_ended_by_bridge or asyncio.Event()
        self._recordings_dir = recordings_dir
        self._print = on_print
        self.call_sid = self._call.call_sid
        self._stream_sid = self._call.stream_sid
        self._line = PhoneLine()
        self._ticked = asyncio.Event()
        self._ended = asyncio.Event()
        self._tick_wall: dict[int, float] = {}  # stream ms -> wall clock, for latencies
        self._clear_wall: list[float] = []
        self._first_media_after: dict[int, float] = {}
        self._last_media_wall = 0.0
        self._reply_end_wall = 0.0  # when the last reply's end mark was played
        self._lines: list[CallerLine] = []
        self._seq = 1  # `connected` has no number, `start` is 1

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    async def run(self, script: list[Step]) -> CallReport:
        report = CallReport(call_sid=self.call_sid)
        async with aiohttp.ClientSession() as http:
            report.twiml = await self._call.ring(http)
            stream = stream_of(report.twiml)
            if stream is None:
                report.status = "not connected"
                return report
            async with self._call.media(http, stream) as ws:
                await self._converse(ws, script, http)
            report.clears = len(self._clear_wall)
            record = await self._final_record(http)
        if record is not None:
            report.status, report.end_reason = record.status, record.end_reason
            report.turns = record.turns
        report.caller_lines = self._lines
        if self._recordings_dir is not None:
            # Caller on the left, agent on the right, on the stream's clock.
            path = self._recordings_dir / f"{self.call_sid}.wav"
            stereo = interleave_stereo(
                bytes(self._line.caller_track), bytes(self._line.agent_track)
            )
            await asyncio.to_thread(_save_recording, path, stereo)
            report.recording = str(path)
        return report

    # -- the media stream -----------------------------------------------------------------

    async def _converse(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        script: list[Step],
        http: aiohttp.ClientSession,
    ) -> None:
        tasks = [
            asyncio.create_task(self._pace(ws)),
            asyncio.create_task(self._receive(ws)),
            asyncio.create_task(self._watch_bridge_hangup()),
        ]
        if self._print is not None:
            tasks.append(asyncio.create_task(self._print_turns(http)))
        try:
            await self._play(script, ws)
        except CallEnded:
            pass
        finally:
            self._ended.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if not ws.closed:
                await ws.send_str(
                    messages.stop_message(
                        self._stream_sid, self._next_seq(), self.call_sid, self._call.account_sid
                    )
                )
                await ws.close()

    async def _pace(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """One tick every 20 ms of stream time: a caller frame out, agent audio played."""
        started = time.perf_counter()
        frames = 0
        while not ws.closed:
            now_ms = self._line.now_ms
            tick = self._line.tick()
            frames += 1
            payload = base64.b64encode(tick.frame).decode("ascii")
            await ws.send_str(
                messages.inbound_media_message(
                    self._stream_sid, self._next_seq(), frames, now_ms, payload
                )
            )
            self._tick_wall[now_ms] = time.perf_counter()
            for name in tick.echoes:
                if name.endswith(REPLY_END_SUFFIX):
                    self._reply_end_wall = time.perf_counter()
                await ws.send_str(
                    messages.mark_echo_message(self._stream_sid, self._next_seq(), name)
                )
            self._ticked.set()
            self._ticked.clear()
            delay = started + frames * self._tick_s - time.perf_counter()
            await asyncio.sleep(max(0.0, delay))

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                break
            message = messages.parse_outbound(frame.data)
            if message.event == "media":
                self._line.agent_media(base64.b64decode(message.media.payload))
                self._last_media_wall = time.perf_counter()
                self._first_media_after.setdefault(self._line.now_ms, self._last_media_wall)
            elif message.event == "mark":
                self._line.agent_mark(message.mark.name)
            elif message.event == "clear":
                self._clear_wall.append(time.perf_counter())
                self._line.clear()
        self._ended.set()

    async def _watch_bridge_hangup(self) -> None:
        """A REST update of the call ends the stream, as it does on Twilio."""
        await self._ended_by_bridge.wait()
        self._ended.set()

    # -- the script -----------------------------------------------------------------------

    async def _play(self, script: list[Step], ws: aiohttp.ClientWebSocketResponse) -> None:
        # The greeting, if the bridge speaks one: a caller may talk over it.
        await self._until(lambda: self._line.agent_playing, timeout_s=GREETING_TIMEOUT_S)
        for index, step in enumerate(script):
            # A sound over the agent's reply to this line comes next: do not wait for its end.
            overlaid = index + 1 < len(script) and isinstance(script[index + 1], Overlay)
            if isinstance(step, Say):
                await self._say(step.text, "say", await self._speech(step.text), overlaid)
            elif isinstance(step, PlayAudio):
                audio = await asyncio.to_thread(read_wav_mono, step.path, PHONE_RATE)
                await self._say(step.path.name, "audio", audio, overlaid)
            elif isinstance(step, PressKeys):
                await self._press(step.digits, ws)
            elif isinstance(step, Interrupt):
                await self._interrupt(step, await self._speech(step.text))
            elif isinstance(step, Overlay):
                await self._overlay(step, await self._sound(step))
            elif isinstance(step, Quiet):
                await self._quiet(step.ms)
            elif isinstance(step, Voicemail):
                await self._voicemail(step)
            elif isinstance(step, HangUp):
                await self._agent_talking_for(step.after_ms)
                self._show(f"caller hangs up {step.after_ms} ms into the reply")
                return
            if self._on_step_done is not None:
                self._on_step_done(step)

    async def _voicemail(self, step: Voicemail) -> None:
        """A machine answering: its greeting and beep at once, over anything the agent says."""
        self._show(f"voicemail> {step.greeting} (beep)")
        audio = await self._speech(step.greeting) + beep(step.beep_ms)
        self._line.speak(audio)
        await self._until(lambda: not self._line.caller_speaking)
        self._lines.append(CallerLine(kind="voicemail", text=step.greeting))

    async def _speech(self, text: str) -> bytes:
        return await line_audio(self._tts, text)

    async def _sound(self, step: Overlay) -> bytes:
        return await overlay_audio(self._tts, step.sound, step.ms)

    async def _say(self, text: str, kind: str, pcm16: bytes, overlaid: bool = False) -> None:
        await self._agent_quiet()
        self._show(f"caller> {text}")
        start_ms = self._line.now_ms
        clears_before = len(self._clear_wall)
        speech_end_ms = self._line.speak(pcm16)
        await self._spoken(pcm16)
        line = CallerLine(kind=kind, text=text)
        # Agent audio (or a clear of it) before the caller's last word: a turn cut short.
        line.answered_early = len(self._clear_wall) > clears_before or any(
            start_ms <= at < speech_end_ms for at in self._first_media_after
        )
        self._lines.append(line)
        if overlaid:
            await self._until(lambda: self._heard_agent_after(speech_end_ms))
        else:
            await self._await_reply(since_ms=self._line.now_ms)
        line.reply_ms = self._latency_after(speech_end_ms)
        line.silence_ms = self._line.longest_silence_ms(speech_end_ms)

    async def _overlay(self, step: Overlay, pcm16: bytes) -> None:
        """A sound over the agent's reply to the line before (`after_ms` into it): counts
        whether it cut the agent and whether the agent came back."""
        await self._agent_talking_for(step.after_ms)
        self._show(f"caller (over the agent, not a turn)> {step.sound}")
        clears_before = len(self._clear_wall)
        self._line.speak(pcm16)
        await self._until(lambda: not self._line.caller_speaking)
        end_ms = self._line.now_ms
        line = CallerLine(kind="overlay", text=step.sound)
        self._lines.append(line)
        if len(self._clear_wall) > clears_before:
            # Cut: the bridge first finds out the sound was no interruption (its turn must
            # end, maybe be transcribed), so give the agent a while to come back.
            line.clear_ms = 0.0
            line.resumed = await self._until(
                lambda: self._heard_agent_after(end_ms), timeout_s=RESUME_WAIT_S
            )
        await self._agent_quiet()

    async def _quiet(self, ms: int) -> None:
        await self._agent_quiet()
        self._show(f"caller says nothing for {ms} ms")
        start_ms = self._line.now_ms
        await self._stream_wait(ms)
        line = CallerLine(kind="quiet", text=f"({ms} ms of silence)")
        self._lines.append(line)
        line.reply_ms = self._latency_after(start_ms)

    async def _press(self, digits: str, ws: aiohttp.ClientWebSocketResponse) -> None:
        await self._agent_quiet()
        self._show(f"caller presses {digits}")
        for digit in digits:
            await ws.send_str(messages.dtmf_message(self._stream_sid, self._next_seq(), digit))
            await self._stream_wait(200)
        pressed_ms = self._line.now_ms
        self._lines.append(CallerLine(kind="keys", text=digits))
        await self._await_reply(since_ms=pressed_ms)
        self._lines[-1].reply_ms = self._latency_after(pressed_ms)

    async def _interrupt(self, step: Interrupt, pcm16: bytes) -> None:
        await self._agent_talking_for(step.after_ms)
        self._show(f"caller (over the agent)> {step.text}")
        clears_before = len(self._clear_wall)
        onset_ms = self._line.now_ms
        speech_end_ms = self._line.speak(pcm16)
        await self._spoken(pcm16)
        line = CallerLine(kind="interrupt", text=step.text)
        if len(self._clear_wall) > clears_before:
            line.clear_ms = round(
                (self._clear_wall[clears_before] - self._wall(onset_ms)) * 1000, 1
            )
        self._lines.append(line)
        await self._await_reply(since_ms=self._line.now_ms)
        line.reply_ms = self._latency_after(speech_end_ms)

    # -- waiting, on the stream's clock ---------------------------------------------------

    async def _until(
        self, condition: Callable[[], bool], timeout_s: float = REPLY_TIMEOUT_S
    ) -> bool:
        deadline = time.perf_counter() + timeout_s
        while not condition():
            if self._ended.is_set():
                raise CallEnded
            if time.perf_counter() > deadline:
                return False
            try:
                await asyncio.wait_for(self._ticked.wait(), timeout=1.0)
            except TimeoutError:
                continue
        return True

    async def _spoken(self, pcm16: bytes) -> None:
        """Wait until the caller's line has played to its end, however long it is."""
        seconds = len(pcm16) / 2 / PHONE_RATE * self._tick_s / (FRAME_MS / 1000)
        await self._until(
            lambda: not self._line.caller_speaking, timeout_s=seconds + REPLY_TIMEOUT_S
        )

    async def _stream_wait(self, ms: int) -> None:
        until = self._line.now_ms + ms
        await self._until(lambda: self._line.now_ms >= until)

    async def _await_reply(self, since_ms: int) -> None:
        """Wait for agent audio after `since_ms`, then for it to finish and fall quiet."""
        replied = await self._until(lambda: self._heard_agent_after(since_ms))
        if not replied:
            self._show("(no reply from the agent)")
            return
        await self._agent_quiet()

    async def _agent_quiet(self) -> None:
        """Wait until the agent's reply has played out (its end mark echoed), and a moment."""

        def quiet() -> bool:
            if self._line.agent_playing:
                return False
            if self._line.now_ms - (self._line.last_agent_audio_ms or 0) < QUIET_MS:
                return False
            if self._reply_end_wall >= self._last_media_wall:
                return True
            # A bridge that ends its replies with a mark has not finished this one (a filler
            # may play while the answer is still coming), unless a clear cut it short.
            cut = bool(self._clear_wall) and self._clear_wall[-1] >= self._last_media_wall
            if self._reply_end_wall and not cut:
                return False
            return time.perf_counter() - self._last_media_wall >= QUIET_WALL_S

        await self._until(quiet)

    async def _agent_talking_for(self, ms: int) -> None:
        await self._until(lambda: self._line.agent_playing)
        await self._stream_wait(ms)

    def _heard_agent_after(self, since_ms: int) -> bool:
        last = self._line.last_agent_audio_ms
        return last is not None and last >= since_ms

    def _wall(self, stream_ms: int) -> float:
        return self._tick_wall.get(stream_ms, time.perf_counter())

    def _latency_after(self, stream_ms: int) -> float | None:
        arrivals = [wall for at, wall in self._first_media_after.items() if at >= stream_ms]
        if not arrivals:
            return None
        return round((min(arrivals) - self._wall(stream_ms)) * 1000, 1)

    # -- what the bridge recorded ---------------------------------------------------------

    async def _fetch_record(self, http: aiohttp.ClientSession) -> CallRecord | None:
        headers = {"Authorization": f"Bearer {self._admin_token}"} if self._admin_token else {}
        async with http.get(f"{self._base}/api/calls/{self.call_sid}", headers=headers) as resp:
            if resp.status != 200:
                return None
            return CallRecord.model_validate_json(await resp.text())

    async def _final_record(self, http: aiohttp.ClientSession) -> CallRecord | None:
        """The record once the bridge has closed it (its teardown runs after ours)."""
        record = None
        for _ in range(40):
            record = await self._fetch_record(http)
            if record is not None and record.status != "active":
                break
            await asyncio.sleep(0.1)
        return record

    async def _print_turns(self, http: aiohttp.ClientSession) -> None:
        shown = 0
        while True:
            await asyncio.sleep(PRINT_POLL_S)
            record = await self._fetch_record(http)
            for turn in record.turns[shown:] if record else []:
                self._show_turn(turn)
            shown = len(record.turns) if record else shown

    def _show_turn(self, turn: TurnRecord) -> None:
        if turn.caller:
            self._show(f"  bridge heard: {turn.caller}")
        for tool in turn.tools:
            self._show(f"  tool {tool.name}({tool.arguments}) -> {tool.result}")
        if turn.agent:
            cut = " [cut off]" if turn.interrupted else ""
            self._show(f"agent> {turn.heard or turn.agent}{cut}")

    def _show(self, text: str) -> None:
        if self._print is not None:
            self._print(text)


def _save_recording(path: Path, stereo: bytes) -> None:
    """A caller's voice: readable by the owner only, like the call records."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)
    write_wav(path, stereo, PHONE_RATE, channels=2)
