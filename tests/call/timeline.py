"""A timeline rig for the call session: a scripted caller, fakes around the session, virtual time.

The session under test is the real `CallSession` with its real turn detector, speaker and
playback tracker. Around it, at its seams:

- `Caller` streams 20 ms mu-law frames like Twilio does (silence unless the script says
  otherwise): `say` sends a voice-like buzz the VAD hears, `press` a DTMF key.
- `FakeSTT` hears the words each `say` registered for its audio (found inside any turn),
  after `stt_ms`; `FakeTTS` speaks `ms_per_word` of audio per word, after `tts_ms`. Either
  can be `broken` (it raises) or `hung` (it never answers and never raises).
- `FakeTwilio` is Twilio's playback buffer: audio plays in real time on the virtual clock,
  marks are echoed once the audio before them has played, and `clear` drops the buffer and
  echoes every pending mark at once. It knows which text each audio chunk speaks, so a test
  can ask what the caller actually heard (`heard`) and what went out when (`sent`).
- `ScriptedAgent` plays back scripted replies (words, pauses, tools run through the real
  `ToolExecutor` against a recording call control).

Every scenario runs on a fresh virtual-clock loop (`run_call`): sleeping costs nothing, so
a minute of call takes milliseconds. After the scenario the call is closed and any task still
alive is a leak, reported by the autouse fixture in `conftest.py`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import count
from typing import Any

import numpy as np

from bridge.agent.base import (
    AgentEvent,
    CallContext,
    CallerTurn,
    Message,
    TextDelta,
    ToolStarted,
)
from bridge.agent.tools import ToolExecutor
from bridge.audio.codec import pcm16_to_ulaw, ulaw_to_pcm16
from bridge.call.endpointing import TurnModel
from bridge.call.fixed_phrases import fixed_pieces
from bridge.call.journal import CallJournal
from bridge.call.session import CallSession
from bridge.dialplan.models import Department, Dialplan
from bridge.records import CallRecord, CallStatus, TurnRecord, TwilioAction
from bridge.speech.base import RecognitionHints, Transcript
from bridge.speech.phrases import PhraseCache, PhraseVoice
from tests.call.virtual_loop import run_virtual
from tests.support.call_control import RecordingControl

RATE = 8000
FRAME_MS = 20
ULAW_FRAME = RATE * FRAME_MS // 1000
ULAW_SILENCE = b"\xff" * ULAW_FRAME
SALES = "+15550001111"
# The line is quiet this long before a scenario begins: the VAD learns the noise floor first.
QUIET_START_MS = 200


def line(**overrides: Any) -> Dialplan:
    """A line with a `sales` department and no greeting unless a test asks for one."""
    fields: dict[str, Any] = {
        "name": "test",
        "greeting": "",
        "departments": {"sales": Department(target=SALES)},
    }
    fields.update(overrides)
    return Dialplan.model_validate(fields)


def _stream_ms() -> float:
    """Milliseconds since the stream started (rounded: float sums of 20 ms steps drift)."""
    return round(asyncio.get_running_loop().time() * 1000, 3)


# -- what the caller says ------------------------------------------------------------------


def _voice(ms: int, f0: float) -> bytes:
    """A harmonic buzz at `f0` that webrtcvad hears as voice; each utterance gets its own."""
    t = np.arange(RATE * ms // 1000) / RATE
    harmonics = range(1, int(3800 / f0))
    wave = sum(3000 / k * np.sin(2 * np.pi * f0 * k * t + k) for k in harmonics)
    return np.clip(wave, -32768, 32767).astype("<i2").tobytes()


class FakeSTT:
    """Hears, in any turn, the words of every utterance whose audio that turn holds."""

    def __init__(self, stt_ms: float = 100) -> None:
        self.stt_ms = stt_ms
        self.broken = False
        self.hung = False
        self.transcribed: list[str] = []  # every transcript returned, speculative ones too
        self._utterances: list[tuple[bytes, str]] = []

    def register(self, marker: bytes, text: str) -> None:
        self._utterances.append((marker, text))

    def for_call(self, hints: RecognitionHints) -> FakeSTT:
        return self

    async def transcribe(self, pcm16: bytes, sample_rate: int) -> Transcript:
        await asyncio.sleep(self.stt_ms / 1000)
        if self.hung:
            await asyncio.Event().wait()
        if self.broken:
            raise RuntimeError("fake STT is down")
        found = sorted(
            (pcm16.find(marker), text) for marker, text in self._utterances if marker in pcm16
        )
        text = " ".join(words for _, words in found if words)
        self.transcribed.append(text)
        return Transcript(text=text)


class Caller:
    """The caller's side of the stream: one 20 ms frame every 20 ms, silence unless scripted."""

    def __init__(self, session: CallSession, stt: FakeSTT) -> None:
        self._session = session
        self._stt = stt
        self._frames: deque[bytes] = deque()
        self._sent = asyncio.Event()
        self._voices = count()
        self.dtmf: list[tuple[float, str]] = []
        self.last_word_ms = 0.0  # when the last `say` ended, on the stream's clock

    async def stream(self) -> None:
        start = asyncio.get_running_loop().time()
        for index in count():
            frame = self._frames.popleft() if self._frames else ULAW_SILENCE
            if not self._frames:
                self._sent.set()
            await self._session.on_audio(frame, index * FRAME_MS)
            await _sleep_until(start + (index + 1) * FRAME_MS / 1000)

    async def say(self, text: str, ms: int | None = None) -> None:
        """Speak for `ms` (default: 300 ms a word); the STT will hear `text` in that audio."""
        ms = ms if ms is not None else 300 * max(1, len(text.split()))
        ulaw = pcm16_to_ulaw(_voice(ms, 100 + 11 * (next(self._voices) % 16)))
        frames = [ulaw[i : i + ULAW_FRAME] for i in range(0, len(ulaw), ULAW_FRAME)]
        frames[-1] = frames[-1].ljust(ULAW_FRAME, b"\xff")
        # The decoder sees exactly this frame; any turn holding it holds this utterance.
        self._stt.register(ulaw_to_pcm16(frames[len(frames) // 2]), text)
        self._frames.extend(frames)
        self._sent.clear()
        await self._sent.wait()
        self.last_word_ms = _stream_ms()

    async def noise(self, ms: int) -> None:
        """Sound the VAD takes for voice but holds no words (a cough, babble, a click)."""
        await self.say("", ms)

    async def pause(self, ms: float) -> None:
        await asyncio.sleep(ms / 1000)

    async def press(self, digit: str) -> None:
        self.dtmf.append((_stream_ms(), digit))
        await self._session.on_dtmf(digit)


async def _sleep_until(when: float) -> None:
    await asyncio.sleep(max(0.0, when - asyncio.get_running_loop().time()))


# -- what the agent says -------------------------------------------------------------------


@lru_cache(maxsize=1)
def _text_codes() -> tuple[int, ...]:
    """Mu-law codes that survive decode + encode and are loud enough not to be silence."""
    return tuple(
        code
        for code in range(256)
        if pcm16_to_ulaw(ulaw_to_pcm16(bytes([code]))) == bytes([code])
        and abs(int.from_bytes(ulaw_to_pcm16(bytes([code])), "little", signed=True)) > 200
    )


class Voice:
    """Which text each audio chunk speaks: every text's audio is one repeated mu-law code."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self._texts: dict[int, str] = {}

    def code(self, text: str) -> int:
        if text not in self._codes:
            code = _text_codes()[len(self._codes) % len(_text_codes())]
            self._codes[text], self._texts[code] = code, text
        return self._codes[text]

    def text(self, ulaw: bytes) -> str:
        return self._texts.get(ulaw[0], "?") if ulaw else ""


class FakeTTS:
    """Speaks `ms_per_word` of audio per word, in 100 ms chunks, the first after `tts_ms`."""

    def __init__(self, voice: Voice, tts_ms: float = 50, ms_per_word: int = 300) -> None:
        self._voice = voice
        self.tts_ms = tts_ms
        self.ms_per_word = ms_per_word
        self.broken = False
        self.error: BaseException | None = None  # what a broken voice raises
        self.hang_on: str | None = None  # never answers text holding this ("": any text)
        self.spoken: list[str] = []

    @property
    def sample_rate(self) -> int:
        return RATE

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        await asyncio.sleep(self.tts_ms / 1000)
        if self.broken:
            raise self.error or RuntimeError("fake TTS is down")
        if self.hang_on is not None and self.hang_on in text:
            await asyncio.Event().wait()
        self.spoken.append(text)
        sample = ulaw_to_pcm16(bytes([self._voice.code(text)]))
        remaining = self.ms_per_word * max(1, len(text.split()))
        while remaining > 0:
            chunk = min(remaining, 100)
            yield sample * (RATE * chunk // 1000)
            remaining -= chunk
            await asyncio.sleep(0)


@dataclass(frozen=True)
class Think:
    """The agent streams nothing for `ms`."""

    ms: float


@dataclass(frozen=True)
class Tool:
    """The agent calls a tool (taking `ms` before the executor runs it)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    ms: float = 0


@dataclass(frozen=True)
class Fail:
    """The agent raises."""

    error: BaseException


Step = str | Think | Tool | Fail


class ScriptedAgent:
    """Plays back one scripted reply per caller turn ("Okay." once the script runs out)."""

    def __init__(self, replies: Sequence[Sequence[Step]], tools: ToolExecutor) -> None:
        self._replies = deque(replies)
        self._tools = tools
        self._ids = count(1)
        self.turns: list[tuple[list[Message], CallerTurn]] = []
        self.tools_done_ms: list[float] = []  # when each scripted tool returned

    async def respond(self, history: list[Message], turn: CallerTurn) -> AsyncIterator[AgentEvent]:
        self.turns.append((list(history), turn))
        steps = self._replies.popleft() if self._replies else ["Okay."]
        for step in steps:
            if isinstance(step, str):
                yield TextDelta(step)
            elif isinstance(step, Think):
                await asyncio.sleep(step.ms / 1000)
            elif isinstance(step, Tool):
                yield ToolStarted(step.name)  # as the LLM agent does
                await asyncio.sleep(step.ms / 1000)
                event = await self._tools.run(step.name, step.arguments, f"t{next(self._ids)}")
                self.tools_done_ms.append(_stream_ms())
                yield event
            else:
                raise step.error


class SlowControl(RecordingControl):
    """Call control whose REST requests take `rest_ms` of virtual time."""

    def __init__(self, rest_ms: float = 0, failures: int = 0) -> None:
        super().__init__(failures)
        self.rest_ms = rest_ms
        self.requested: list[str] = []  # "transfer" / "hang_up", as each request went out
        self.finished: list[str] = []  # and as each one completed

    async def transfer(
        self, target: str, caller_id: str | None, announcement: str, **details: object
    ) -> None:
        self.requested.append("transfer")
        await asyncio.sleep(self.rest_ms / 1000)
        await super().transfer(target, caller_id, announcement, **details)
        self.finished.append("transfer")

    async def hang_up(self) -> None:
        self.requested.append("hang_up")
        await asyncio.sleep(self.rest_ms / 1000)
        await super().hang_up()
        self.finished.append("hang_up")


# -- Twilio's side of the media stream -----------------------------------------------------


@dataclass
class Played:
    """A stretch of agent audio the caller heard (`cut`: a `clear` stopped it here)."""

    text: str
    start_ms: float
    end_ms: float
    cut: bool = False


@dataclass(frozen=True)
class Sent:
    at_ms: float
    kind: str  # "media", "mark" or "clear"
    detail: str = ""  # the text a media chunk speaks, a mark's name


class FakeTwilio:
    """Twilio's outbound buffer: plays media in real time, echoes marks after their audio."""

    def __init__(self, voice: Voice) -> None:
        self._voice = voice
        self.on_mark: Callable[[str], None] = lambda name: None
        self.sent: list[Sent] = []
        self.played: list[Played] = []
        self.echoed: list[tuple[float, str]] = []
        self._play_end_ms = 0.0
        self._marks: list[tuple[asyncio.TimerHandle, str]] = []

    async def send_audio(self, ulaw: bytes) -> None:
        now = _stream_ms()
        text = self._voice.text(ulaw)
        self.sent.append(Sent(now, "media", text))
        start = max(now, self._play_end_ms)
        self._play_end_ms = start + len(ulaw) * 1000 / RATE
        last = self.played[-1] if self.played else None
        if last is not None and last.text == text and last.end_ms == start:
            last.end_ms = self._play_end_ms
        else:
            self.played.append(Played(text, start, self._play_end_ms))

    async def send_mark(self, name: str) -> None:
        self.sent.append(Sent(_stream_ms(), "mark", name))
        loop = asyncio.get_running_loop()
        handle = loop.call_at(self._play_end_ms / 1000, self._echo, name)
        self._marks.append((handle, name))

    async def clear(self) -> None:
        now = _stream_ms()
        self.sent.append(Sent(now, "clear"))
        self.played = [piece for piece in self.played if piece.start_ms < now]
        if self.played and self.played[-1].end_ms > now:
            self.played[-1].end_ms, self.played[-1].cut = now, True
        self._play_end_ms = now
        loop = asyncio.get_running_loop()
        for handle, name in self._marks:
            if not handle.cancelled():
                handle.cancel()
                loop.call_soon(self._echo, name)
        self._marks.clear()

    def _echo(self, name: str) -> None:
        self.echoed.append((_stream_ms(), name))
        self.on_mark(name)

    # -- what a test asks --

    def heard(self, until_ms: float | None = None) -> list[str]:
        """The texts the caller heard, in order (whole or cut), up to `until_ms`."""
        return [
            piece.text + (" [cut]" if piece.cut else "")
            for piece in self.played
            if until_ms is None or piece.start_ms < until_ms
        ]

    def times(self, kind: str, detail: str | None = None) -> list[float]:
        return [s.at_ms for s in self.sent if s.kind == kind and detail in (None, s.detail)]

    def first_audio_after(self, at_ms: float) -> float | None:
        return next((p.start_ms for p in self.played if p.start_ms >= at_ms), None)

    def longest_silence(self, since_ms: float) -> float:
        """The longest stretch without agent audio from `since_ms` to the last audio played."""
        longest, cursor = 0.0, since_ms
        for piece in sorted(self.played, key=lambda p: p.start_ms):
            if piece.end_ms > cursor:
                longest = max(longest, piece.start_ms - cursor)
                cursor = piece.end_ms
        return longest


# -- the record ----------------------------------------------------------------------------


class MemoryStore:
    """Keeps one call's record in memory (the journal writes here)."""

    def __init__(self) -> None:
        self.turns: dict[int, TurnRecord] = {}
        self.actions: list[TwilioAction] = []
        self.status: CallStatus | None = None
        self.reason = ""

    async def open_call(self, record: CallRecord) -> None:
        pass

    async def set_stream(self, call_sid: str, stream_sid: str) -> None:
        pass

    async def add_turn(self, call_sid: str, turn: TurnRecord) -> None:
        self.turns[turn.index] = turn

    async def add_action(self, call_sid: str, action: TwilioAction) -> None:
        self.actions.append(action)

    async def close_call(self, call_sid: str, status: CallStatus, reason: str) -> None:
        self.status, self.reason = status, reason


# -- one call ------------------------------------------------------------------------------


@dataclass
class Call:
    """Everything a scenario drives and a test asserts on."""

    session: CallSession
    caller: Caller
    twilio: FakeTwilio
    stt: FakeSTT
    tts: FakeTTS
    agent: ScriptedAgent
    control: SlowControl
    store: MemoryStore
    leaked: list[str] = field(default_factory=list)
    closed_at_ms: float | None = None

    @property
    def turns(self) -> list[TurnRecord]:
        return [self.store.turns[index] for index in sorted(self.store.turns)]

    @property
    def history(self) -> list[Message]:
        return list(self.session.history)

    def now_ms(self) -> float:
        return _stream_ms()

    async def wait_until(self, predicate: Callable[[], bool], within_ms: float = 30_000) -> None:
        """Let the call run until `predicate` holds (a test failure after `within_ms`)."""
        async with asyncio.timeout(within_ms / 1000):
            while not predicate():  # noqa: ASYNC110  (virtual time: polling costs nothing)
                await asyncio.sleep(FRAME_MS / 1000)

    async def close(self, reason: str = "stop") -> None:
        """Twilio's `stop`: the session tears down (bounded, so a hang fails the test)."""
        async with asyncio.timeout(60):
            await self.session.close(reason)
        self.closed_at_ms = _stream_ms()


# Every call run by the current test, for the leak check in conftest.py.
RUNS: list[Call] = []

Scenario = Callable[[Call], Awaitable[None]]


def run_call(
    scenario: Scenario,
    *,
    dialplan: Dialplan | None = None,
    replies: Sequence[Sequence[Step]] = (),
    stt_ms: float = 100,
    tts_ms: float = 50,
    ms_per_word: int = 300,
    rest_ms: float = 0,
    transfer_failures: int = 0,
    tts_error: BaseException | None = None,
    turn_model: TurnModel | None = None,
) -> Call:
    """Run `scenario` against a fresh call on virtual time; the call closes after it."""
    return run_virtual(
        _run(
            scenario,
            dialplan or line(),
            replies,
            FakeSTT(stt_ms),
            tts_ms,
            ms_per_word,
            SlowControl(rest_ms, transfer_failures),
            tts_error,
            turn_model,
        )
    )


async def _run(
    scenario: Scenario,
    dialplan: Dialplan,
    replies: Sequence[Sequence[Step]],
    stt: FakeSTT,
    tts_ms: float,
    ms_per_word: int,
    control: SlowControl,
    tts_error: BaseException | None,
    turn_model: TurnModel | None,
) -> Call:
    voice = Voice()
    twilio = FakeTwilio(voice)
    tts = FakeTTS(voice, 0, ms_per_word)
    phrases = PhraseCache()  # the process's kept phrases, warmed as `serve` does at startup
    await phrases.warm(tts, fixed_pieces(dialplan))
    tts.spoken.clear()
    tts.tts_ms = tts_ms
    tts.broken, tts.error = tts_error is not None, tts_error
    store = MemoryStore()
    context = CallContext(call_sid="CA-timeline", caller="+15550002222", called="+15550003333")
    tools = ToolExecutor(dialplan, control, None, context)
    agent = ScriptedAgent(replies, tools)
    session = CallSession(
        call_sid=context.call_sid,
        dialplan=dialplan,
        stt=stt,
        tts=PhraseVoice(phrases, tts),
        agent=agent,
        tools=tools,
        control=control,
        sink=twilio,
        journal=CallJournal(store, context.call_sid),  # type: ignore[arg-type]
        turn_model=turn_model,
    )
    twilio.on_mark = session.on_mark
    caller = Caller(session, stt)
    call = Call(session, caller, twilio, stt, tts, agent, control, store)
    RUNS.append(call)
    stream = asyncio.create_task(caller.stream(), name="caller-stream")
    try:
        await session.start()
        await asyncio.sleep(QUIET_START_MS / 1000)
        await scenario(call)
        if call.closed_at_ms is None:
            await call.close()
    finally:
        stream.cancel()
        await asyncio.gather(stream, return_exceptions=True)
        await asyncio.sleep(0)
        current = asyncio.current_task()
        alive = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        call.leaked = sorted(task.get_name() for task in alive)
        for task in alive:
            task.cancel()
        await asyncio.gather(*alive, return_exceptions=True)
    return call
