"""A lean simulated caller for load: many of these share one process and one 20 ms pacer.

Unlike `bridge.sim.SimulatedCaller` it keeps no audio: its line is pre-encoded payloads, the
agent's audio is only counted (to play it out in real time and echo marks when it has
played), and every outbound message is parsed once. It speaks Twilio's protocol just the same:
signed webhook, signed socket, `connected`, `start`, `media` with string numbers, `stop`.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from enum import Enum

import aiohttp

from bridge.audio.phone import FRAME_MS, ULAW_FRAME
from bridge.bench.realtime import RealtimeProbe
from bridge.bench.voice import SILENCE_PAYLOAD
from bridge.observability.lag import LagHistogram
from bridge.sim.handshake import InboundCall, Target, stream_of
from bridge.sim.line import Playout
from bridge.twilio import messages

QUIET_FRAMES = 25  # 500 ms without agent audio: the agent has finished
GREETING_WAIT_FRAMES = 250  # a bridge that greets starts within 5 s


@dataclass(frozen=True)
class CallPlan:
    """What every caller does: talk, wait for the reply, listen, pause, again."""

    line: tuple[str, ...]  # the caller's words, as base64 mu-law 20 ms payloads
    duration_s: float  # stream time after which the caller hangs up (between turns)
    silence_ms: int = 600  # the bridge's end-of-turn silence window
    think_ms: int = 400  # pause after the agent has finished
    barge_every: int = 3  # every n-th caller turn talks over the reply (0: never)
    barge_after_ms: int = 400  # that far into the reply
    reply_timeout_ms: int = 10_000
    max_turns: int = 0  # hang up after this many caller turns (0: only the duration counts)


@dataclass
class CallResult:
    """One call's measurements (latencies in ms)."""

    turn_ms: list[float] = field(default_factory=list)  # end of caller audio -> first media
    added_ms: list[float] = field(default_factory=list)  # the same, less the silence window
    barge_ms: list[float] = field(default_factory=list)  # speech onset sent -> clear received
    errors: list[str] = field(default_factory=list)
    frames_sent: int = 0
    media_received: int = 0
    completed: bool = False


class _Phase(Enum):
    LISTEN = "listen"  # the greeting or a reply is (or may soon be) playing
    PAUSE = "pause"  # the caller thinks
    SPEAK = "speak"
    AWAIT_REPLY = "await reply"  # caller silent, counting the bridge's latency
    DONE = "done"


class BenchCall:
    def __init__(self, target: Target, plan: CallPlan, probe: RealtimeProbe | None = None) -> None:
        self._call = InboundCall(target)
        self._plan = plan
        self._probe = probe  # realtime mode: times the stand-in's audio through the bridge
        self._reply_base = 0  # agent bytes played before the current reply began
        self.result = CallResult()
        self.call_sid = self._call.call_sid
        self._stream_sid = self._call.stream_sid
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._seq = 1
        self._frame = 0
        self._phase = _Phase.LISTEN
        self._in_phase = 0  # frames since the phase began
        self._turns = 0
        self._position = 0  # next frame of the line
        self._barging = False
        self._quiet = 0  # frames in a row with nothing of the agent's playing
        self._reply_frames = 0  # frames of the current reply played
        self._heard_reply = False
        self._ended_at = 0.0  # wall clock when the caller's audio ended
        self._window_at = 0.0  # ... and when the frame closing the silence window went out
        self._onset_at = 0.0  # wall clock of the first frame of a barge-in
        self._playout = Playout()  # the agent's audio on the line: counted, not kept
        self._echoes: list[str] = []
        self.finished = asyncio.Event()

    # -- the call's life ------------------------------------------------------------------

    async def run(self, http: aiohttp.ClientSession, pacer: Pacer) -> CallResult:
        try:
            stream = stream_of(await self._call.ring(http))
            if stream is None:
                raise RuntimeError("the bridge did not connect a stream")
            async with self._call.media(http, stream) as ws:
                self._ws = ws
                receiving = asyncio.create_task(self._receive(ws))
                pacer.join(self)
                try:
                    await asyncio.wait(
                        [receiving, asyncio.ensure_future(self.finished.wait())],
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    pacer.leave(self)
                    if not ws.closed:
                        self._seq += 1
                        await ws.send_str(
                            messages.stop_message(
                                self._stream_sid, self._seq, self.call_sid, self._call.account_sid
                            )
                        )
                        await ws.close()
                    receiving.cancel()
                    await asyncio.gather(receiving, return_exceptions=True)
            self.result.completed = self._phase is _Phase.DONE
            if not self.result.completed:
                self.result.errors.append("stream closed by the bridge")
        except (aiohttp.ClientError, OSError, RuntimeError) as exc:
            self.result.errors.append(f"{type(exc).__name__}: {exc}")
        return self.result

    # -- every 20 ms ----------------------------------------------------------------------

    async def tick(self) -> None:
        """Play 20 ms of the agent, take one step of the script, send one frame and echoes."""
        ws = self._ws
        if ws is None or ws.closed or self.finished.is_set():
            return
        self._play_agent()
        payload = self._step()
        self._frame += 1
        self._seq += 1
        # Twilio's media frame, numbers as strings, written directly (the hot path here).
        await ws.send_str(
            f'{{"event":"media","sequenceNumber":"{self._seq}","media":{{"track":"inbound",'
            f'"chunk":"{self._frame}","timestamp":"{(self._frame - 1) * FRAME_MS}",'
            f'"payload":"{payload}"}},"streamSid":"{self._stream_sid}"}}'
        )
        self.result.frames_sent += 1
        if self._echoes:
            echoes, self._echoes = self._echoes, []
            for name in echoes:
                self._seq += 1
                await ws.send_str(messages.mark_echo_message(self._stream_sid, self._seq, name))

    def _play_agent(self) -> None:
        if self._playout.buffered:
            self._reply_frames += 1
        self._echoes += self._playout.play(ULAW_FRAME)
        self._quiet = 0 if self._playout.playing else self._quiet + 1

    def _step(self) -> str:
        """The caller's part of this tick: the payload it sends."""
        plan = self._plan
        self._in_phase += 1
        if self._phase is _Phase.LISTEN:
            if self._barging and self._playout.playing:
                if self._reply_frames * FRAME_MS >= plan.barge_after_ms:
                    return self._speak(time.perf_counter())
            elif self._quiet >= QUIET_FRAMES and (
                self._heard_reply or self._in_phase >= GREETING_WAIT_FRAMES
            ):
                self._enter(_Phase.PAUSE)
        elif self._phase is _Phase.PAUSE:
            out_of_turns = plan.max_turns and self._turns >= plan.max_turns
            if out_of_turns or self._frame * FRAME_MS >= plan.duration_s * 1000:
                self._enter(_Phase.DONE)
                self.finished.set()
            elif self._in_phase * FRAME_MS >= plan.think_ms:
                return self._speak(0.0)
        elif self._phase is _Phase.SPEAK:
            return self._speak(0.0)
        elif self._phase is _Phase.AWAIT_REPLY:
            if self._in_phase == plan.silence_ms // FRAME_MS:
                self._window_at = time.perf_counter()
            if self._in_phase * FRAME_MS >= plan.reply_timeout_ms:
                self.result.errors.append("no reply")
                self._enter(_Phase.PAUSE)
        return SILENCE_PAYLOAD

    def _speak(self, onset_at: float) -> str:
        if self._phase is not _Phase.SPEAK:
            self._enter(_Phase.SPEAK)
            self._position = 0
            self._onset_at = onset_at
        line = self._plan.line
        payload = line[self._position]
        self._position += 1
        if self._position == len(line):
            self._turns += 1
            every = self._plan.barge_every
            self._barging = bool(every) and (self._turns + 1) % every == 0
            self._enter(_Phase.AWAIT_REPLY)
            # The audio ends with this frame: the silence after it starts with the next.
            self._ended_at = time.perf_counter() + FRAME_MS / 1000
        return payload

    def _enter(self, phase: _Phase) -> None:
        self._phase = phase
        self._in_phase = 0

    # -- what the bridge sends ------------------------------------------------------------

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                break
            self._on_message(json.loads(frame.data))

    def _on_message(self, message: dict[str, object]) -> None:
        event = message.get("event")
        if event == "media":
            payload = str(message["media"]["payload"])  # type: ignore[index]
            padding = payload.endswith("=") + payload.endswith("==")
            self._playout.media(len(payload) * 3 // 4 - padding)
            self.result.media_received += 1
            if self._probe is not None:
                self._probe.media(payload)
            self._heard_reply = True
            if self._phase is _Phase.AWAIT_REPLY:
                self._replied(time.perf_counter())
        elif event == "mark":
            self._playout.mark(str(message["mark"]["name"]))  # type: ignore[index]
        elif event == "clear":
            if self._onset_at:
                self.result.barge_ms.append(round((time.perf_counter() - self._onset_at) * 1000, 2))
                self._onset_at = 0.0
            if self._probe is not None:
                self._probe.clear(self._playout.played - self._reply_base)
            self._playout.clear()

    def _replied(self, now: float) -> None:
        self.result.turn_ms.append(round((now - self._ended_at) * 1000, 2))
        if self._window_at:
            self.result.added_ms.append(round((now - self._window_at) * 1000, 2))
        self._window_at = 0.0
        self._heard_reply = True
        self._reply_frames = 0
        self._reply_base = self._playout.played
        self._enter(_Phase.LISTEN)


class Pacer:
    """One clock for every call: each 20 ms (of stream time), each call sends its frame.

    The calls are spread over PHASES slots of the 20 ms, as Twilio's streams are not in step:
    all of them sending in one burst made the generator's own loop the bottleneck (the last
    frame of 300 left ~13 ms after the first, and whatever the bench was timing waited too).

    `speed` above 1 runs the stream faster than real time (tests); turn-taking is unchanged
    because the bridge times turns by the stream, but latencies are then not comparable.
    """

    PHASES = 4

    def __init__(self, speed: float = 1.0) -> None:
        self._slots: list[dict[BenchCall, None]] = [{} for _ in range(self.PHASES)]
        self._joined = 0
        self._tick_s = FRAME_MS / 1000 / speed / self.PHASES
        self.lateness = LagHistogram()  # how late ticks ran: the load generator's own health

    def join(self, call: BenchCall) -> None:
        self._slots[self._joined % self.PHASES][call] = None
        self._joined += 1

    def leave(self, call: BenchCall) -> None:
        for slot in self._slots:
            slot.pop(call, None)

    async def run(self) -> None:
        started = time.perf_counter()
        ticks = 0
        while True:
            ticks += 1
            due = started + ticks * self._tick_s
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            phase = ticks % self.PHASES
            if phase == 0:  # one sample per 20 ms, as "late ticks" always counted
                self.lateness.add(max(0.0, time.perf_counter() - due) * 1000)
            for call in list(self._slots[phase]):
                await call.tick()
