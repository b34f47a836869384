"""One phone call, from the first audio frame to teardown.

The Twilio media socket feeds `on_audio`, `on_dtmf` and `on_mark`; everything a call does
follows from there:

1. Inbound mu-law is decoded into 20 ms PCM frames and run through the VAD turn detector.
2. When the caller starts talking while the agent's audio is still playing, that is a
   barge-in: `clear` goes out at once and the reply holds. When the caller's turn ends it is
   judged (see `interruptions`): words take the floor and the reply is dropped; a cough, a
   backchannel or wordless noise lets the reply resume from the start of the cut sentence.
   A key press over the agent drops the reply at once; then it acts (`key_actions`).
3. When the caller falls silent, transcription starts at once (speculatively: it is thrown
   away if they go on talking), so it runs inside the silence window that ends the turn.
   When the turn ends, a reply task takes that transcript, asks the agent, and speaks the
   reply piece by piece as it streams (`hearing`, `answer`, `reply_voice`: TTS -> mu-law ->
   `media` + `mark`). Nothing heard a while into the turn: a filler. A failing STT or TTS: a
   phrase kept from startup says so, so the line is never silent.
4. Marks echoed by Twilio say what was heard; the history and the call's record get exactly
   that (`conversation`).
5. Tools act on the live call (transfer, hang-up) through the agent's `CallControl`; a
   transfer already requested runs to its end even if the reply asking for it is dropped.
6. A caller silent for long after the agent finished is reprompted, then told goodbye
   (`idle`).
7. `close` (on `stop` or socket close, whichever comes first) cancels everything, once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from itertools import count

from bridge.agent.base import Agent, CallControl, CallControlError, CallerTurn, Message, ToolEvent
from bridge.agent.tools import ToolExecutor
from bridge.audio.codec import ulaw_to_pcm16
from bridge.audio.framing import Framer
from bridge.audio.phone import PHONE_RATE, ULAW_FRAME
from bridge.audio.turns import SilenceStarted, SpeechResumed, SpeechStarted, TurnDropped, TurnEnded
from bridge.audio.vad import TurnDetector
from bridge.call.answer import stream_answer
from bridge.call.conversation import Conversation
from bridge.call.digits_mode import DigitsMode
from bridge.call.endpointing import Endpointer, TurnModel
from bridge.call.hearing import hear
from bridge.call.idle import IdleWatch
from bridge.call.interruptions import Interruptions
from bridge.call.journal import CallJournal
from bridge.call.key_actions import KeyActions
from bridge.call.latency import TurnClock
from bridge.call.playback import MediaClock, PlaybackTracker, SpokenPiece
from bridge.call.reply_voice import ReplyVoice
from bridge.call.speaker import AudioSink, Speaker
from bridge.call.speculation import SpeculativeTranscriber
from bridge.call.tasks import CallTasks
from bridge.call.turn_voice import HeardLanguage
from bridge.call.turns import PendingTurn, ReplyState
from bridge.dialplan.models import Dialplan
from bridge.observability import metrics
from bridge.speech.base import SpeechToText, TextToSpeech

log = logging.getLogger(__name__)

HANGUP_GRACE_S = 30.0  # longest we wait for a goodbye to play before hanging up anyway
TOOL_SETTLE_S = 10.0  # longest a closing call waits for a transfer request in flight


class CallSession:
    def __init__(
        self,
        *,
        call_sid: str,
        dialplan: Dialplan,
        stt: SpeechToText,
        tts: TextToSpeech,
        agent: Agent,
        tools: ToolExecutor,
        control: CallControl,
        sink: AudioSink,
        journal: CallJournal,
        turn_model: TurnModel | None = None,
        on_closed: Callable[[], object] = lambda: None,
    ) -> None:
        self.call_sid = call_sid
        self._dialplan = dialplan
        # Heard as digits for the turn after the agent asks for some (call/digits_mode.py).
        self._stt = DigitsMode(stt, dialplan)
        self._agent = agent
        self._tools = tools
        self._control = control
        self._sink = sink
        self._call = Conversation(journal)
        self._on_closed = on_closed

        self._framer = Framer(ULAW_FRAME)
        self._detector = TurnDetector(dialplan.turns)
        self._tracker = PlaybackTracker()
        self._floor_free = asyncio.Event()
        self._floor_free.set()
        self._clock = MediaClock()
        self._speaker = Speaker(
            tts, sink, self._tracker, self._clock, self._floor_free, dialplan.call.voice_timeout_ms
        )
        self._voice = ReplyVoice(self._speaker, self._tracker, dialplan.call)
        # A `language: auto` line's voice follows the language each turn was heard in.
        self._turn_language = tts if isinstance(tts, HeardLanguage) else None

        self._reply: ReplyState | None = None
        self._queued: list[PendingTurn] = []
        self._tasks = CallTasks(call_sid)
        self._speculation = SpeculativeTranscriber(self._stt, PHONE_RATE, self._tasks.own)
        self._interruptions = Interruptions(
            dialplan.call.interruptions, stt, self._tracker, self._floor_free, self._tasks.own
        )
        self._endpointer = Endpointer(
            dialplan.turns, turn_model, PHONE_RATE, self._detector.hold, self._tasks.own
        )
        self._reply_ids = count(1)
        self._keys = KeyActions(dialplan.dtmf, tools, self._call, self._tasks.own)
        self._idle = IdleWatch(dialplan.call.idle, dialplan.goodbye, self._tasks.own)
        self._last_words = False  # saying a goodbye nothing the caller does can change
        self._closed = False
        tools.on_late = self._tool_ran_late  # unset at `close`: no cycle outlives the call

    @property
    def history(self) -> list[Message]:
        """The conversation so far, as the caller heard it."""
        return self._call.history

    # -- what Twilio sends us -------------------------------------------------------------

    async def start(self) -> None:
        """The stream is up: greet the caller (unless Twilio's <Say> already did)."""
        metrics.call_started()
        if not self._dialplan.greet_in_twiml and self._dialplan.greeting:
            greeting = self._dialplan.greeting
            self._begin_reply(PendingTurn(source="greeting", text=greeting, scripted=True))
        else:
            self._line_quiet()

    async def on_audio(self, ulaw: bytes, timestamp_ms: float) -> None:
        self._clock.now_ms = timestamp_ms
        if self._last_words:
            return
        for frame in self._framer.push(ulaw):
            event = self._detector.push(ulaw_to_pcm16(frame))
            if event is None:
                continue
            if isinstance(event, SpeechStarted):
                self._floor_free.clear()
                self._idle.stop()
                if self._tracker.playing:
                    await self._barge_in(hold=True)
            elif isinstance(event, SilenceStarted):
                if self._call.status == "active":
                    # Transcribe now, and ask whether the caller sounds done (see endpointing).
                    audio = self._detector.turn_audio()
                    self._endpointer.silence_started(audio, self._speculation.start(audio))
            elif isinstance(event, SpeechResumed):
                self._endpointer.cancel()
                self._speculation.discard()
            elif isinstance(event, TurnDropped):
                self._endpointer.cancel()
                self._speculation.discard()
                self._floor_free.set()
                if (held := self._interruptions.take()) is not None:
                    self._interruptions.resume(held)  # a cough, a click: not an interruption
                if self._reply is None:
                    self._line_quiet()
            elif isinstance(event, TurnEnded):
                self._endpointer.cancel()
                self._floor_free.set()
                log.debug(
                    "turn ended after %d ms of silence (%s)",
                    event.silence_ms,
                    self._endpointer.verdict,
                )
                await self._turn_arrived(
                    PendingTurn(
                        source="speech",
                        audio=event.audio,
                        endpointing_ms=event.silence_ms,
                        waiting_since=asyncio.get_running_loop().time() - event.silence_ms / 1000,
                        speech_ms=event.duration_ms,
                        transcript=self._speculation.take(event.audio),
                    )
                )

    async def on_dtmf(self, digit: str) -> None:
        """A key press interrupts the agent like speech does, then acts (see `key_actions`)."""
        if self._tracker.playing:
            await self._barge_in(hold=False)
        await self._keys.press(digit, self._clock.now_ms, self._turn_arrived)
        if self._reply is None:
            self._line_quiet()  # a caller keying digits is not idle

    def on_mark(self, name: str) -> None:
        self._tracker.echoed(name, self._clock.now_ms)

    async def close(self, reason: str) -> None:
        """Tear the call down once: cancel every task, then write the end of the record."""
        if self._closed:
            return
        self._closed = True
        # A transfer already requested finishes (and is recorded) even as the stream ends.
        await self._tools.settle(TOOL_SETTLE_S)
        await self._tasks.cancel_all()
        # A cancelled task keeps its traceback (frames holding this session): let go of them.
        self._tools.on_late = lambda event: None
        self._idle.stop()
        self._interruptions.held = None
        status = await self._call.close(reason)
        self._on_closed()
        metrics.call_ended(status)
        log.info("call ended: %s (%s); %s", status, reason, self._call.spent())

    async def end_politely(self, goodbye: str) -> None:
        """Say `goodbye` over whatever is playing, then hang up through Twilio (at shutdown)."""
        if self._closed or self._call.status != "active":
            return
        self._queued.clear()
        # A voicemail's tail or a caller's words must neither cut nor replace the goodbye.
        self._last_words = True
        self._floor_free.set()
        busy = self._reply.task if self._reply is not None else None
        await self._drop_reply()
        if busy is not None:
            await asyncio.gather(busy, return_exceptions=True)
        # The goodbye's reply hangs up once it has played (see the end of `_run_reply`).
        self._call.hangup_due = True
        self._begin_reply(
            PendingTurn(source="greeting", text=goodbye, scripted=True, caller="(shutdown)")
        )

    async def take_over(self, history: list[Message], turns_so_far: int, phrase: str) -> None:
        """Carry on a call another session began (a realtime one that failed), instead of
        `start`: its conversation so far, then `phrase` so the line is never silent."""
        self._call.carry_on(history, turns_so_far)
        if phrase:
            self._begin_reply(PendingTurn(source="greeting", text=phrase, scripted=True))

    # -- turns and replies ----------------------------------------------------------------

    async def _turn_arrived(self, turn: PendingTurn) -> None:
        if self._call.status != "active":
            return
        if turn.source == "speech" and (held := self._interruptions.take()) is not None:
            self._tasks.own(self._judge_interruption(held, turn), "interruption")
            return
        busy = self._reply
        if busy is None:
            self._begin_reply(turn)
        elif self._dialplan.call.busy_policy == "queue":
            if len(self._queued) < self._dialplan.call.queue_limit:
                self._queued.append(turn)
            else:
                log.warning("caller turn dropped: %d turns already queued", len(self._queued))
        else:
            # Answer the newer turn; words still being transcribed are answered with it.
            if busy.stage == "stt" and busy.turn.source == turn.source == "speech":
                turn.audio = busy.turn.audio + turn.audio
                if turn.transcript is not None:
                    turn.transcript.cancel()
                    turn.transcript = None
            await self._drop_reply()
            self._begin_reply(turn)

    def _begin_reply(self, turn: PendingTurn) -> None:
        self._idle.stop()
        reply = ReplyState(turn, id=next(self._reply_ids))
        reply.task = self._tasks.own(self._run_reply(reply), "reply")
        reply.task.add_done_callback(self._reply_done)
        self._reply = reply

    def _cancel_reply(self) -> None:
        if self._reply is not None and self._reply.task is not None:
            self._reply.task.cancel()

    def _reply_done(self, task: asyncio.Task[None]) -> None:
        if self._reply is not None and self._reply.task is task:
            self._reply = None
            if self._queued and not self._closed:
                self._begin_reply(self._queued.pop(0))
            else:
                self._line_quiet()

    def _line_quiet(self) -> None:
        """Nothing to say and nobody talking: the caller's silence starts to count."""
        self._idle.stop()
        if self._call.status == "active" and not self._closed:
            self._idle.start(self._prompt)

    def _prompt(self, text: str, last: bool) -> bool:
        """The caller was silent for long: a reprompt, or at last the goodbye (then hang up),
        unless the line is no longer quiet."""
        if self._reply is not None or not self._floor_free.is_set():
            return False
        if self._call.status != "active":
            return False
        self._call.hangup_due = self._call.hangup_due or last
        self._begin_reply(
            PendingTurn(source="greeting", text=text, scripted=True, caller="(silence)")
        )
        return True

    async def _run_reply(self, reply: ReplyState) -> None:
        turn = reply.turn
        clock = TurnClock(turn.endpointing_ms)
        record = self._call.new_turn(turn.source, turn.caller, turn.speech_ms)
        # Nothing of the reply heard a while after the turn ended: a filler, then keep-alives.
        filler = (
            None if turn.scripted else self._tasks.own(self._voice.fill_silence(reply), "filler")
        )
        try:
            text, scripted, confidence, language = turn.text, turn.scripted, 1.0, ""
            if turn.source == "speech":
                said = await hear(turn, self._stt, self._dialplan.call, clock)
                text, scripted, confidence = said.text, said.scripted, said.confidence
                language = said.language
                if self._turn_language is not None:
                    self._turn_language.heard(language)
                if not text.strip():
                    return
            if scripted:
                record.agent = text
                await self._voice.say_scripted(reply, text, clock)
            else:
                self._idle.caller_spoke()
                self._call.caller_said(record, text)
                reply.stage = "agent"
                await stream_answer(
                    self._agent.respond(
                        list(self._call.history),
                        CallerTurn(
                            text=text, source=turn.source, confidence=confidence, language=language
                        ),
                    ),
                    record,
                    clock,
                    say=partial(self._say_unless_transferred, reply, clock),
                    on_tool=partial(self._call.tool_ran, record=record),
                )
            await self._voice.finish(reply, clock)
        # `except*`: errors raised inside `_answer`'s TaskGroup arrive in an ExceptionGroup.
        # (Speech failures never get here: they are answered by kept phrases instead.)
        except* CallControlError:
            log.exception("call control failed during a reply")
        finally:
            if filler is not None:
                filler.cancel()
            record.resumed = reply.resumed
            record.latency_ms = clock.latency
            self._call.turn_over(record, self._tracker.take(reply.id))
            if record.agent:
                self._keys.agent_said(record.agent)
                self._endpointer.expect_digits = self._stt.agent_said(record.agent)
            if self._call.hangup_due and self._call.status == "active":
                hang_up = self._call.hang_up(self._tracker.drained, self._control, HANGUP_GRACE_S)
                self._tasks.own(hang_up, "hang-up")

    async def _say_unless_transferred(
        self, reply: ReplyState, clock: TurnClock, piece: str
    ) -> None:
        if self._call.status != "transferred":  # the caller is on their way elsewhere
            await self._voice.say(reply, piece, clock)

    def _tool_ran_late(self, event: ToolEvent) -> None:
        """A transfer whose reply was cancelled (a barge-in) went through anyway."""
        self._call.tool_turn(event, "speech", "(reply interrupted)")

    # -- barge-in and the end of the call -------------------------------------------------

    async def _barge_in(self, *, hold: bool) -> None:
        """The caller talks (or keys) over the agent: stop the audio now. A key press drops
        the reply behind it; speech holds it until the caller's turn shows what it was."""
        metrics.barge_in()
        reply = self._reply
        if not hold or reply is None or not self._interruptions.judge.settings.resume:
            await self._drop_reply()
            return
        cleared = await self._clear_audio()
        self._interruptions.hold(reply, cleared, self._detector.turn_audio)

    async def _judge_interruption(self, reply: ReplyState, turn: PendingTurn) -> None:
        """The caller's turn over the agent ended: resume the reply, or answer the turn."""
        if await self._interruptions.was_false(turn):
            self._interruptions.resume(reply)
            return
        if self._reply is reply:
            await self._drop_reply()
        await self._turn_arrived(turn)

    async def _clear_audio(self) -> list[SpokenPiece]:
        """Empty Twilio's buffer, keeping what was heard so far; returns the pieces cleared."""
        if not self._tracker.playing:
            return []
        await self._sink.clear()
        return self._tracker.interrupt(self._clock.now_ms)

    async def _drop_reply(self) -> None:
        """Stop the agent's audio and cancel its reply."""
        await self._clear_audio()
        self._cancel_reply()
