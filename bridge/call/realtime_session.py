"""One phone call answered by a speech-to-speech model (`agent.mode: realtime`).

The media socket drives it exactly like the cascaded `CallSession` (`start`, `on_audio`,
`on_dtmf`, `on_mark`, `close`, `end_politely`), but the caller's mu-law goes straight to the
model and the model's mu-law straight back to Twilio: no decoding, no resampling.

1. Each chunk of the model's audio goes out as a `media` frame, with a mark every so often;
   the echoed marks say how much of each item the caller heard (`ModelPlayout`).
2. The model's VAD (or the bridge's own detector) says when the caller starts talking. Over
   the agent that is a barge-in: `clear` to Twilio, cancel the response, and truncate each
   item to what was heard, so the model remembers what the caller remembers.
3. Tool calls run through the same `ToolExecutor` as every agent. A transfer waits for what
   the model said before it to play; a hang-up waits for the goodbye.
4. Each caller turn and what answered it becomes a turn record (`RealtimeTurns`).
5. A model that cannot be reached, drops, or does not answer in time hands the call to the
   cascaded session, with the conversation so far (`_fall_back`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bridge.agent.base import CallControl, CallControlError, ToolEvent
from bridge.agent.realtime.link import (
    AgentWords,
    AudioOut,
    CallerSpeechStarted,
    CallerSpeechStopped,
    CallerWords,
    LinkClosed,
    LinkConfig,
    LinkError,
    LinkEvent,
    RealtimeConnector,
    RealtimeLink,
    ResponseDone,
    ToolRequest,
)
from bridge.agent.tools import ToolExecutor
from bridge.audio.turns import SpeechStarted, TurnEnded, TurnEvent
from bridge.call.journal import CallJournal
from bridge.call.keypad import KeyedEntry, Keypad
from bridge.call.playback import MediaClock
from bridge.call.realtime_caller_audio import caller_audio_of
from bridge.call.realtime_deadline import AnswerDeadline
from bridge.call.realtime_playout import ModelPlayout
from bridge.call.realtime_turns import PROVIDER, RealtimeTurns, log_call_usage, turn_usage
from bridge.call.session import HANGUP_GRACE_S, CallSession
from bridge.call.speaker import AudioSink
from bridge.call.tasks import CallTasks
from bridge.dialplan.models import Dialplan
from bridge.observability import metrics
from bridge.observability.lag import REALTIME_RELAY
from bridge.records import CallStatus, TurnUsage

log = logging.getLogger(__name__)


def say_exactly(text: str) -> str:
    """Instructions for one response that speaks fixed words (a greeting, a goodbye)."""
    return f'Say exactly: "{text}"'


class RealtimeSession:
    def __init__(
        self,
        *,
        call_sid: str,
        dialplan: Dialplan,
        connector: RealtimeConnector,
        link_config: LinkConfig,
        tools: ToolExecutor,
        control: CallControl,
        sink: AudioSink,
        journal: CallJournal,
        cascade: Callable[[], CallSession],
        on_closed: Callable[[], object] = lambda: None,
    ) -> None:
        self.call_sid = call_sid
        self._dialplan = dialplan
        self._settings = dialplan.agent.realtime
        self._connector = connector
        self._config = link_config
        self._tools = tools
        self._control = control
        self._journal = journal
        self._make_cascade = cascade
        self._on_closed = on_closed

        self._link: RealtimeLink | None = None
        self._cascade: CallSession | None = None  # set once the cascade took the call over
        self._playout = ModelPlayout(sink)
        self._clock = MediaClock()
        self._tasks = CallTasks(call_sid)
        self._keypad = Keypad(dialplan.dtmf)
        self._caller = caller_audio_of(dialplan)

        self._turns = RealtimeTurns(journal, self._playout.ledger)
        self._responding = False  # a response is being generated (cancel has something to do)
        self._response_audio = False  # the response in flight sent audio
        self._tool_runs: list[asyncio.Task[None]] = []
        self._deadline = AnswerDeadline(
            self._tasks,
            self._settings.answer_timeout_ms / 1000,
            lambda: self._fall_back("no answer in time"),
        )
        self._status: CallStatus = "active"
        self._hangup_due = False
        self._last_words = ""  # a tool's words to say as written before the hang-up
        self._closed = False
        self._usage = TurnUsage(provider=PROVIDER, model=link_config.model)  # the whole call

    # -- what Twilio sends us -------------------------------------------------------------

    async def start(self) -> None:
        """Open the model's session and greet (unless Twilio's <Say> already did)."""
        metrics.call_started()
        greeting = "" if self._dialplan.greet_in_twiml else self._dialplan.greeting
        try:
            self._link = await self._connector.open(self._config)
        except LinkClosed as exc:
            await self._fall_back(str(exc))
            return
        self._tasks.own(self._read(self._link), "realtime-events")
        if greeting:
            self._turns.open("greeting")
            await self._ask(say_exactly(greeting))

    async def on_audio(self, ulaw: bytes, timestamp_ms: float) -> None:
        if self._cascade is not None:
            await self._cascade.on_audio(ulaw, timestamp_ms)
            return
        self._clock.now_ms = timestamp_ms
        if self._link is None:
            return
        batch = self._caller.add(ulaw)
        if batch and not await self._send_audio(batch):
            return
        if self._caller.own_turns:
            for event in self._caller.turn_events(ulaw):
                await self._own_turn(event)

    async def _send_audio(self, batch: bytes) -> bool:
        """Send a batch of caller audio; False when the link dropped (the cascade took over)."""
        return not batch or await self._call_link(lambda link: link.send_audio(batch))

    async def on_dtmf(self, digit: str) -> None:
        """A key press interrupts like speech does, then acts as in the cascaded session."""
        if self._cascade is not None:
            await self._cascade.on_dtmf(digit)
            return
        await self._caller_started()
        pressed = self._keypad.press(digit, self._clock.now_ms)
        if isinstance(pressed, KeyedEntry):
            keyed = f"(keyed) {pressed.digits}"
            self._turns.open("dtmf", caller=keyed)
            if await self._call_link(lambda link: link.caller_text(keyed)):
                await self._ask(None)
        elif pressed is not None:
            if pressed.say:
                self._turns.open("dtmf", caller=f"(key {digit})")
                await self._ask(say_exactly(pressed.say))
            if pressed.transfer:
                request = ToolRequest("", "transfer_call", {"department": pressed.transfer})
                self._tasks.own(self._run_tool(request), "key-transfer")

    def on_mark(self, name: str) -> None:
        if self._cascade is not None:
            self._cascade.on_mark(name)
        else:
            self._playout.echoed(name, self._clock.now_ms)

    async def close(self, reason: str) -> None:
        """Tear the call down once: the model's session, every task, then the record."""
        if self._closed:
            return
        self._closed = True
        self._turns.close()
        await self._tasks.cancel_all()
        if self._link is not None:
            await self._link.close()
        log_call_usage(self._usage)
        if self._cascade is not None:
            await self._cascade.close(reason)
            return
        status: CallStatus = self._status if self._status != "active" else "completed"
        await self._journal.close(status, reason)
        self._on_closed()
        metrics.call_ended(status)

    async def end_politely(self, goodbye: str) -> None:
        """Say `goodbye` over whatever is playing, then hang up (at shutdown)."""
        if self._cascade is not None:
            await self._cascade.end_politely(goodbye)
            return
        if self._closed or self._status != "active":
            return
        await self._caller_started()
        self._hangup_due = True
        self._turns.open("greeting")
        if not await self._ask(say_exactly(goodbye)):
            self._tasks.own(self._hang_up(), "hang-up")

    # -- the model's events ---------------------------------------------------------------

    async def _read(self, link: RealtimeLink) -> None:
        try:
            async for event in link.events():
                await self._handle(event)
        except LinkClosed as exc:
            if not self._closed:
                await self._fall_back(str(exc))

    async def _handle(self, event: LinkEvent) -> None:
        if isinstance(event, AudioOut):
            await self._play(event)
        elif isinstance(event, CallerSpeechStarted):
            self._turns.caller_speaking(event.audio_start_ms)
            await self._caller_started()
        elif isinstance(event, CallerSpeechStopped):
            silence_ms = self._settings.silence_ms
            speech_ms = self._turns.caller_spoke_until(event.audio_end_ms, silence_ms)
            self._caller_stopped(float(silence_ms), speech_ms)
        elif isinstance(event, CallerWords):
            self._turns.caller_words(event.text)
        elif isinstance(event, AgentWords):
            self._playout.ledger.item(event.item_id).text = event.text
            self._turns.agent_words(event.text)
        elif isinstance(event, ToolRequest):
            self._deadline.stop()
            self._tool_runs.append(self._tasks.own(self._run_tool(event), "tool"))
        elif isinstance(event, ResponseDone):
            await self._response_done(event)
        elif isinstance(event, LinkError):
            # Cancelling a response the server VAD already cancelled is expected and harmless.
            level = logging.DEBUG if event.code == "response_cancel_not_active" else logging.WARNING
            log.log(level, "realtime error %s: %s", event.code, event.message)

    async def _play(self, audio: AudioOut) -> None:
        """Pass the model's audio to Twilio as it is."""
        self._deadline.stop()
        if self._status == "transferred" or not audio.ulaw:
            return
        await self._playout.send(audio.item_id, audio.ulaw, self._clock.now_ms)
        if audio.received_at:
            REALTIME_RELAY.add((time.perf_counter() - audio.received_at) * 1000)
        self._response_audio = True
        self._turns.audio_sent(audio.item_id)

    async def _response_done(self, done: ResponseDone) -> None:
        self._deadline.stop()
        self._responding = False
        usage = turn_usage(self._config.model, done.usage)
        self._usage.add(usage)
        self._turns.response_done(usage)
        if done.status == "failed" and not self._response_audio:
            # Nothing said and nothing coming (a server error, a content filter): no dead air.
            await self._fall_back("a response failed")
            return
        await self._playout.mark()
        runs, self._tool_runs = self._tool_runs, []
        if done.status == "completed" and runs:
            self._tasks.own(self._after_tools(runs), "after-tools")
            return
        if self._response_audio:
            await self._playout.reply_ended()
        self._response_audio = False
        if self._turns.current is not None:
            self._tasks.own(self._turns.settle(self._turns.current, self._played), "turn-record")
        if self._hangup_due and self._status == "active":
            self._tasks.own(self._hang_up(), "hang-up")

    # -- the caller's turns ---------------------------------------------------------------

    async def _own_turn(self, event: TurnEvent) -> None:
        """The bridge's detector decides the turns (`turn_detection: bridge`)."""
        if isinstance(event, SpeechStarted):
            await self._caller_started()
        elif isinstance(event, TurnEnded):
            silence = self._dialplan.turns.silence_ms if event.reason == "silence" else 0
            self._caller_stopped(float(silence), event.duration_ms)
            if await self._send_audio(self._caller.take()):
                await self._call_link(lambda link: link.commit())

    async def _caller_started(self) -> None:
        """The caller talks (or keys): over the agent, that is a barge-in."""
        if not self._playout.playing:
            return
        metrics.barge_in()
        cuts = await self._playout.clear(self._clock.now_ms)
        self._turns.interrupted()
        if self._link is None:
            return
        try:
            if self._responding:
                await self._link.cancel()
            for cut in cuts:
                await self._link.truncate(cut.item_id, cut.audio_end_ms)
        except LinkClosed as exc:
            await self._fall_back(str(exc))

    def _caller_stopped(self, endpointing_ms: float, speech_ms: int) -> None:
        """A caller turn ended: the model answers it (its VAD asked already, or we commit)."""
        self._turns.open("speech", endpointing_ms=endpointing_ms, speech_ms=speech_ms)
        self._responding = True
        self._deadline.start()

    # -- tools and the end of the call ----------------------------------------------------

    async def _run_tool(self, request: ToolRequest) -> None:
        if request.name == "transfer_call":
            await self._played()  # "let me transfer you" reaches the caller before the dial
        event = await self._tools.run(request.name, request.arguments, request.call_id or None)
        self._tool_ran(event)
        if request.call_id and self._link is not None and not event.transferred:
            await self._call_link(lambda link: link.tool_result(request.call_id, event.result))

    def _tool_ran(self, event: ToolEvent) -> None:
        metrics.tool_called(event.name, event.result)
        self._turns.tool_ran(event)
        if event.transferred:
            self._status = "transferred"
        if event.ends_call:
            self._hangup_due = True
            self._last_words = event.last_words

    async def _after_tools(self, runs: list[asyncio.Task[None]]) -> None:
        """Every tool of a response has answered: the model goes on (or the call ends)."""
        await asyncio.gather(*runs, return_exceptions=True)
        words, self._last_words = self._last_words, ""
        if self._hangup_due and self._status == "active":
            # The hang-up then follows that response's end (`_response_done`).
            if not words or not await self._ask(say_exactly(words)):
                await self._hang_up()
        elif self._status == "active":
            await self._ask(None)

    async def _played(self) -> None:
        """Wait (bounded) until everything sent so far has played, by the marks."""
        try:
            async with asyncio.timeout(HANGUP_GRACE_S):
                await self._playout.drained()
        except TimeoutError:
            log.warning("the agent's audio did not finish playing; going on anyway")

    async def _hang_up(self) -> None:
        self._status = "completed"
        await self._played()
        try:
            await self._control.hang_up()
        except CallControlError:
            log.exception("hang-up failed")

    # -- the link, its deadline and the fallback ------------------------------------------

    async def _ask(self, instructions: str | None) -> bool:
        """Request a response; False when the link is gone (the cascade took over)."""
        self._responding = True
        self._deadline.start()
        return await self._call_link(lambda link: link.respond(instructions))

    async def _call_link(self, send: Callable[[RealtimeLink], Awaitable[None]]) -> bool:
        """Send something to the model; a dropped link hands the call to the cascade."""
        if self._link is None:
            return False
        try:
            await send(self._link)
        except LinkClosed as exc:
            await self._fall_back(str(exc))
            return False
        return True

    async def _fall_back(self, reason: str) -> None:
        """Hand the call to the cascaded pipeline, with the conversation so far; it greets the
        caller if nothing was said yet, else says the bridging phrase."""
        if self._cascade is not None or self._closed or self._status != "active":
            return
        log.warning("realtime session failed (%s): the cascaded pipeline takes over", reason)
        metrics.realtime_fallback()
        self._deadline.stop()
        if self._playout.playing:
            await self._playout.clear(self._clock.now_ms)
        self._turns.close()
        spoke = any(message.role == "agent" and message.text for message in self._turns.history)
        greeting = "" if self._dialplan.greet_in_twiml else self._dialplan.greeting
        phrase = self._settings.bridging_phrase if spoke else greeting
        link, self._link = self._link, None
        if link is not None:
            self._tasks.own(link.close(), "realtime-close")
        self._cascade = self._make_cascade()
        await self._cascade.take_over(list(self._turns.history), self._turns.next_index(), phrase)
