"""A simulated caller that speaks Twilio's exact protocol to a bridge.

It does what Twilio does for an inbound call: a signed voice webhook, then the media socket
from the TwiML (signed `wss://` URL, `connected` then `start` with the `<Parameter>`s, 20 ms
mu-law `media` frames with string numbers), marks echoed once the audio before them has
played, every mark flushed on `clear`, and `stop` when the call ends, including when the
bridge transfers or hangs up the call through Twilio's REST API.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import aiohttp

from bridge.audio.phone import PHONE_RATE
from bridge.audio.wav import interleave_stereo, read_wav_mono, write_wav
from bridge.sim.call_record import CallRecordReader
from bridge.sim.caller_media import CallEnded, CallerMedia
from bridge.sim.handshake import InboundCall, Target, stream_of
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

log = logging.getLogger(__name__)

GREETING_TIMEOUT_S = 5.0  # a bridge that greets starts within this
RESUME_WAIT_S = 6.0  # longest wait for the agent to resume after a sound cut it


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
        # Set by the fake Twilio API when the bridge updates this call (transfer, hang-up).
        self._ended_by_bridge = call_ended_by_bridge or asyncio.Event()
        self._recordings_dir = recordings_dir
        self._print = on_print
        # A plain function, not a bound method: the media state keeps it, and a method would
        # tie the caller and its media into a cycle that outlives the call.
        self._show = partial(_show, on_print)
        self.call_sid = self._call.call_sid
        self._media = CallerMedia(
            self._call.stream_sid, self.call_sid, self._call.account_sid, speed, self._show
        )
        self._line = self._media.line
        self._records = CallRecordReader(self._base, self.call_sid, admin_token)
        self._lines: list[CallerLine] = []

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
            report.clears = len(self._media.clear_wall)
            record = await self._records.final(http)
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
            asyncio.create_task(self._media.pace(ws)),
            asyncio.create_task(self._media.receive(ws)),
            asyncio.create_task(self._watch_bridge_hangup()),
        ]
        if self._print is not None:
            tasks.append(asyncio.create_task(self._records.print_turns(http, self._show)))
        try:
            await self._play(script, ws)
        except CallEnded:
            pass
        finally:
            self._media.ended.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if not ws.closed:
                await self._media.send_stop(ws)
                await ws.close()

    async def _watch_bridge_hangup(self) -> None:
        """A REST update of the call ends the stream, as it does on Twilio."""
        await self._ended_by_bridge.wait()
        self._media.ended.set()

    # -- the script -----------------------------------------------------------------------

    async def _play(self, script: list[Step], ws: aiohttp.ClientWebSocketResponse) -> None:
        # The greeting, if the bridge speaks one: a caller may talk over it.
        await self._media.until(lambda: self._line.agent_playing, timeout_s=GREETING_TIMEOUT_S)
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
                await self._media.agent_talking_for(step.after_ms)
                self._show(f"caller hangs up {step.after_ms} ms into the reply")
                return
            if self._on_step_done is not None:
                self._on_step_done(step)

    async def _voicemail(self, step: Voicemail) -> None:
        """A machine answering: its greeting and beep at once, over anything the agent says."""
        self._show(f"voicemail> {step.greeting} (beep)")
        audio = await self._speech(step.greeting) + beep(step.beep_ms)
        self._line.speak(audio)
        await self._media.until(lambda: not self._line.caller_speaking)
        self._lines.append(CallerLine(kind="voicemail", text=step.greeting))

    async def _speech(self, text: str) -> bytes:
        return await line_audio(self._tts, text)

    async def _sound(self, step: Overlay) -> bytes:
        return await overlay_audio(self._tts, step.sound, step.ms)

    async def _say(self, text: str, kind: str, pcm16: bytes, overlaid: bool = False) -> None:
        await self._media.agent_quiet()
        self._show(f"caller> {text}")
        start_ms = self._line.now_ms
        clears_before = len(self._media.clear_wall)
        speech_end_ms = self._line.speak(pcm16)
        await self._media.spoken(pcm16)
        line = CallerLine(kind=kind, text=text)
        # Agent audio (or a clear of it) before the caller's last word: a turn cut short.
        line.answered_early = len(self._media.clear_wall) > clears_before or any(
            start_ms <= at < speech_end_ms for at in self._media.first_media_after
        )
        self._lines.append(line)
        if overlaid:
            await self._media.until(lambda: self._media.heard_agent_after(speech_end_ms))
        else:
            await self._media.await_reply(since_ms=self._line.now_ms)
        line.reply_ms = self._media.latency_after(speech_end_ms)
        line.silence_ms = self._line.longest_silence_ms(speech_end_ms)

    async def _overlay(self, step: Overlay, pcm16: bytes) -> None:
        """A sound over the agent's reply to the line before (`after_ms` into it): counts
        whether it cut the agent and whether the agent came back."""
        await self._media.agent_talking_for(step.after_ms)
        self._show(f"caller (over the agent, not a turn)> {step.sound}")
        clears_before = len(self._media.clear_wall)
        self._line.speak(pcm16)
        await self._media.until(lambda: not self._line.caller_speaking)
        end_ms = self._line.now_ms
        line = CallerLine(kind="overlay", text=step.sound)
        self._lines.append(line)
        if len(self._media.clear_wall) > clears_before:
            # Cut: the bridge first finds out the sound was no interruption (its turn must
            # end, maybe be transcribed), so give the agent a while to come back.
            line.clear_ms = 0.0
            line.resumed = await self._media.until(
                lambda: self._media.heard_agent_after(end_ms), timeout_s=RESUME_WAIT_S
            )
        await self._media.agent_quiet()

    async def _quiet(self, ms: int) -> None:
        await self._media.agent_quiet()
        self._show(f"caller says nothing for {ms} ms")
        start_ms = self._line.now_ms
        await self._media.stream_wait(ms)
        line = CallerLine(kind="quiet", text=f"({ms} ms of silence)")
        self._lines.append(line)
        line.reply_ms = self._media.latency_after(start_ms)

    async def _press(self, digits: str, ws: aiohttp.ClientWebSocketResponse) -> None:
        await self._media.agent_quiet()
        self._show(f"caller presses {digits}")
        for digit in digits:
            await self._media.send_keys(ws, digit)
            await self._media.stream_wait(200)
        pressed_ms = self._line.now_ms
        self._lines.append(CallerLine(kind="keys", text=digits))
        await self._media.await_reply(since_ms=pressed_ms)
        self._lines[-1].reply_ms = self._media.latency_after(pressed_ms)

    async def _interrupt(self, step: Interrupt, pcm16: bytes) -> None:
        await self._media.agent_talking_for(step.after_ms)
        self._show(f"caller (over the agent)> {step.text}")
        clears_before = len(self._media.clear_wall)
        onset_ms = self._line.now_ms
        speech_end_ms = self._line.speak(pcm16)
        await self._media.spoken(pcm16)
        line = CallerLine(kind="interrupt", text=step.text)
        if len(self._media.clear_wall) > clears_before:
            line.clear_ms = round(
                (self._media.clear_wall[clears_before] - self._media.wall(onset_ms)) * 1000, 1
            )
        self._lines.append(line)
        await self._media.await_reply(since_ms=self._line.now_ms)
        line.reply_ms = self._media.latency_after(speech_end_ms)


def _show(on_print: Callable[[str], None] | None, text: str) -> None:
    if on_print is not None:
        on_print(text)


def _save_recording(path: Path, stereo: bytes) -> None:
    """A caller's voice: readable by the owner only, like the call records."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)
    write_wav(path, stereo, PHONE_RATE, channels=2)
