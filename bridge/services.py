"""Everything one bridge process shares between its calls, and how a call is put together."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

from twilio.rest import Client

from bridge.agent.base import CallContext
from bridge.agent.factory import LlmClients, build_agent
from bridge.agent.instant import InstantAgent
from bridge.agent.orders import open_order_lookup
from bridge.agent.phrases import PHRASES
from bridge.agent.realtime.factory import link_config
from bridge.agent.tools import ToolExecutor
from bridge.audio.voice import warm_up as warm_up_voice
from bridge.call.after_call import WebhookCourier
from bridge.call.fixed_phrases import fixed_pieces
from bridge.call.journal import CallJournal, open_journal
from bridge.call.llm_writer import LlmWriter
from bridge.call.meter import MeteredCall, SpeechMeter
from bridge.call.realtime_session import RealtimeSession
from bridge.call.recorder import CallRecorder, RecordedCall
from bridge.call.returns import DIAL_OUTCOMES, ReturnedCall, returned_from_transfer
from bridge.call.session import CallSession
from bridge.call.sink_tap import TappedSink
from bridge.call.speaker import AudioSink
from bridge.call.turn_voice import TurnLanguageVoice
from bridge.campaign.dialer import Dialer, check_call
from bridge.campaign.verdicts import AmdVerdicts
from bridge.config import Settings
from bridge.dialplan.loader import DialplanSet, load_dialplans
from bridge.dialplan.models import Dialplan
from bridge.dialplan.outbound import outbound_dialplan
from bridge.observability import metrics
from bridge.records import CallDirection, CallLeg, CallRecord, TwilioAction, utcnow
from bridge.speech.base import TextToSpeech
from bridge.speech.counted import CountedSTT, CountedTTS
from bridge.speech.factory import SpeechModels, load_speech
from bridge.speech.phrases import PhraseVoice
from bridge.speech.pool import background
from bridge.store import CallStore, open_store
from bridge.twilio.media import MediaCall
from bridge.twilio.messages import StartInfo
from bridge.twilio.outbound import check_request, place_call
from bridge.twilio.rest import TwilioCallControl, close_twilio_client, make_twilio_client
from bridge.twilio.tokens import CallIdentity, CallTokens
from bridge.twilio.twiml import DIAL_ACTION_PATH
from bridge.twilio.warm import WarmTransfers

log = logging.getLogger(__name__)

SHUTDOWN_GOODBYE = (
    "I'm sorry, this line has to close for a moment. Please call us back shortly. Goodbye."
)

LIVE_POLL_S = 0.1  # how often a drain looks whether the live calls have ended

# A live call, either way of talking (the media socket drives both alike).
LiveCall = CallSession | RealtimeSession

# Twilio ends any call after 24 hours at the latest.
CALLS_LAST_AT_MOST = timedelta(hours=24)


@dataclass
class Services:
    settings: Settings
    dialplans: DialplanSet
    speech: SpeechModels
    store: CallStore
    tokens: CallTokens
    twilio: Client
    llm: LlmClients
    live: dict[str, LiveCall] = field(default_factory=dict)
    draining: bool = False
    owns_speech: bool = True  # False when the models were lent (tests share one set)
    instance_id: str = ""
    courier: WebhookCourier = field(init=False)
    warming_phrases: asyncio.Task[None] | None = None  # see `build_services`
    dialer: Dialer = field(init=False)
    verdicts: AmdVerdicts = field(init=False)  # on the outbound calls live here
    warm: WarmTransfers = field(init=False)

    def __post_init__(self) -> None:
        writer = LlmWriter(self.llm)  # the brief of a warm transfer, the notes after a call
        self.courier = WebhookCourier(
            self.store,
            self.dialplans,
            lambda sid: f"{self.settings.public_base_url}/api/calls/{sid}/recording.wav",
            writer,
        )
        self.warm = WarmTransfers(
            self.settings,
            self.store,
            self.twilio,
            self.tokens,
            self.dialplans,
            writer,
            self.courier.call_over,
        )
        self.dialer = Dialer(
            self.store.campaigns,
            self.dial,
            self.instance_id,
            check=partial(check_call, self.twilio, self.store),
        )
        self.verdicts = AmdVerdicts(self.store, self.twilio, self.live.get)

    def _closed(self, call_sid: str) -> None:
        """A call's stream ended: it is no longer live, and unless it was transferred (its
        outcome is still to come), what happens after the call starts."""
        self.live.pop(call_sid, None)
        self.verdicts.closed(call_sid)
        self.courier.call_over(call_sid, unless_transferred=True)

    def accepting_calls(self) -> bool:
        return not self.draining and len(self.live) < self.settings.max_concurrent_calls

    @property
    def recordings_dir(self) -> Path:
        return self.settings.data_dir / "recordings"

    async def start_call(
        self, start: StartInfo, identity: CallIdentity, sink: AudioSink
    ) -> MediaCall:
        """Wire a new call: its dialplan, record, tools, agent and speech.

        Who is calling, and which dialplan answered, come from the signed webhook (`identity`).
        """
        caller, called = identity.caller, identity.called
        dialplan = self._dialplan_of(identity)
        direction: CallDirection = "inbound"
        person, line = caller, called
        placed = await self.store.get_outbound(identity.outbound) if identity.outbound else None
        if placed is not None:
            # A call we placed: the person on the line is the one we called.
            direction, person, line = "outbound", called, caller
            dialplan = outbound_dialplan(dialplan, placed.variables)
        journal = await open_journal(
            self.store,
            CallRecord(
                call_sid=start.call_sid,
                stream_sid=start.stream_sid,
                from_number=caller,
                to_number=called,
                dialplan=dialplan.name,
                instance_id=self.instance_id,
                direction=direction,
            ),
        )
        returned = await returned_from_transfer(self.store, start.call_sid)
        context = CallContext(
            call_sid=start.call_sid, caller=person, called=line, outbound=placed is not None
        )
        recorder: CallRecorder | None = None
        if dialplan.recording.enabled:
            recorder = CallRecorder(self.recordings_dir / f"{start.call_sid}.wav")
            sink = TappedSink(sink, recorder)
            if returned is None:  # the consent announcement comes first, in the recording
                greeting = f"{dialplan.recording.announcement} {dialplan.greeting}".strip()
                dialplan = dialplan.model_copy(update={"greeting": greeting})
        meter = SpeechMeter()  # how long the agent is heard
        sink = TappedSink(sink, meter)
        try:
            session = self._new_session(start, dialplan, context, journal, sink, returned)
        except BaseException:
            # The record must not stay "active" forever, nor its writer task pend.
            await journal.close("failed", "the call could not start")
            if recorder is not None:
                await recorder.close()
            raise
        self.live[start.call_sid] = session
        call: MediaCall = session if recorder is None else RecordedCall(session, recorder)
        call = MeteredCall(call, meter, self.store, start.call_sid)
        if returned is None:
            await session.start()
            if dialplan.outbound is not None and placed is not None:
                await self.verdicts.stream_started(start.call_sid, dialplan.outbound)
            return call
        # The caller is back from a transfer nobody answered: same conversation, new stream.
        journal.leg(CallLeg(kind="agent", status="returned", sid=start.stream_sid))
        metrics.call_started()
        phrase = dialplan.transfer_returned.format(
            department=returned.department.replace("_", " ") or "that department",
            outcome=DIAL_OUTCOMES.get(returned.status, "couldn't be reached"),
        )
        assert isinstance(session, CallSession)
        await session.take_over(returned.history, returned.turns_so_far, phrase)
        return call

    async def dial(self, dialplan_name: str, to: str, variables: dict[str, str]) -> CallRecord:
        """Place one outbound call; OutboundError says what is wrong with the request."""
        dialplan = check_request(self.dialplans, dialplan_name, to, variables)
        return await place_call(self.twilio, self.settings, self.store, dialplan, to, variables)

    def _dialplan_of(self, identity: CallIdentity) -> Dialplan:
        """The dialplan the webhook chose; instances must share dialplans to share calls."""
        if not identity.dialplan:
            return self.dialplans.for_number(identity.called)
        found = self.dialplans.named(identity.dialplan)
        if found is None:
            raise LookupError(f"dialplan {identity.dialplan!r} is not loaded on this instance")
        return found

    def _new_session(
        self,
        start: StartInfo,
        dialplan: Dialplan,
        context: CallContext,
        journal: CallJournal,
        sink: AudioSink,
        returned: ReturnedCall | None = None,
    ) -> LiveCall:
        journal.stream(start.stream_sid)
        control = TwilioCallControl(
            self.twilio,
            start.call_sid,
            on_action=_recorded_and_counted(journal.action),
            dial_action_url=self.settings.public_base_url + DIAL_ACTION_PATH,
            warm=self.warm,
        )
        tools = ToolExecutor(
            dialplan,
            control,
            open_order_lookup(dialplan.orders),
            context,
            self.store.trust,
            opt_outs=self.store.campaigns,
        )

        def cascaded() -> CallSession:
            return CallSession(
                call_sid=start.call_sid,
                dialplan=dialplan,
                stt=CountedSTT(self.speech.stt_for(dialplan)),
                tts=self._call_voice(dialplan),
                agent=InstantAgent()
                if self.settings.bridge_agent == "instant"
                else build_agent(dialplan, self.settings, tools, context, self.llm),
                tools=tools,
                control=control,
                sink=sink,
                journal=journal,
                turn_model=self.speech.turn_model,
                on_closed=lambda: self._closed(start.call_sid),
            )

        # A caller back from a transfer continues in the cascaded session, which can take the
        # conversation so far over (`take_over`).
        if dialplan.agent.mode == "cascaded" or returned is not None:
            return cascaded()
        return RealtimeSession(
            call_sid=start.call_sid,
            dialplan=dialplan,
            connector=self.llm.realtime(),
            link_config=link_config(dialplan, context),
            tools=tools,
            control=control,
            sink=sink,
            journal=journal,
            cascade=cascaded,
            on_closed=lambda: self._closed(start.call_sid),
        )

    def _call_voice(self, dialplan: Dialplan) -> TextToSpeech:
        """The call's voice in the line's language; with `language: auto`, in each turn's
        (those the rules agent answers in, or the line has a voice for)."""

        def voice_for(language: str) -> TextToSpeech:
            voice = self.speech.tts_for(dialplan.voice, language)
            # Fixed phrases from the cache: no synthesis, and they play when TTS fails.
            return PhraseVoice(self.speech.phrases, voice, CountedTTS(voice))

        if dialplan.recognition.language != "auto":
            return voice_for(dialplan.recognition.language)
        return TurnLanguageVoice(voice_for, {*PHRASES, *dialplan.voice.languages})

    async def end_live_calls(self, timeout_s: float) -> None:
        """Past the drain timeout: each live call hears a goodbye, then is hung up via REST."""
        calls = list(self.live.values())
        if calls:
            log.warning("ending %d live calls politely: the drain timeout passed", len(calls))
        for session in calls:
            await session.end_politely(SHUTDOWN_GOODBYE)
        # Twilio ends each stream once its hang-up reached it.
        await self.live_calls_ended(timeout_s)

    async def live_calls_ended(self, timeout_s: float) -> None:
        """Wait until no call is live, or `timeout_s` has passed."""
        deadline = time.monotonic() + timeout_s
        # Polled: the live-call map has no change signal, and a drain happens once.
        while self.live and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(LIVE_POLL_S)

    async def close(self) -> None:
        if self.warming_phrases is not None:
            self.warming_phrases.cancel()
            await asyncio.gather(self.warming_phrases, return_exceptions=True)
        for session in list(self.live.values()):
            await session.close("server shutting down")
        await self.warm.close()
        await self.store.close()
        await close_twilio_client(self.twilio)
        await self.llm.aclose()
        if self.owns_speech:
            await self.speech.aclose()


async def build_services(settings: Settings, speech: SpeechModels | None = None) -> Services:
    """Load dialplans, speech models and the store; fails loudly on bad configuration."""
    dialplans = load_dialplans(settings.dialplans_dir)
    owns_speech = speech is None
    if speech is None:
        speech = load_speech(settings)
        await speech.warm_up()
    await asyncio.to_thread(warm_up_voice, [dialplan.turns for dialplan in dialplans])
    store = await open_store(settings)
    (settings.data_dir / "recordings").mkdir(parents=True, exist_ok=True, mode=0o700)
    instance_id = instance_name(settings)
    interrupted = await _close_interrupted(store, settings, instance_id)
    if interrupted:
        log.warning("%d calls left open by an earlier run were closed as interrupted", interrupted)
    # A SQLite file is this instance's alone; a shared database, only this instance's claims.
    shared = bool(settings.database_url.get_secret_value())
    abandoned = await store.campaigns.abandon_claims(instance_id if shared else None)
    if abandoned:
        log.warning("%d campaign contacts claimed before a stop are not dialled again", abandoned)
    services = Services(
        settings=settings,
        dialplans=dialplans,
        speech=speech,
        store=store,
        tokens=CallTokens.from_settings(settings, store.trust.claim_stream),
        twilio=make_twilio_client(settings),
        llm=LlmClients(settings),
        owns_speech=owns_speech,
        instance_id=instance_id,
    )
    # Fixed phrases (greetings, fillers, apologies) are synthesized once per voice and kept by
    # `speech`. Lent models (tests) are warmed before the first call; a serving process warms
    # them in the background, so readiness does not wait for it (seconds of TTS).
    warming = _warm_phrases(speech, dialplans)
    if owns_speech:
        services.warming_phrases = asyncio.create_task(warming, name="warming-phrases")
    else:
        await warming
    return services


async def _warm_phrases(speech: SpeechModels, dialplans: DialplanSet) -> None:
    # In the background lane: the first calls' own speech goes first.
    with background():
        for dialplan in dialplans:
            voice = speech.tts_for(dialplan.voice, dialplan.recognition.language)
            await speech.phrases.warm(voice, fixed_pieces(dialplan))


def _recorded_and_counted(
    record: Callable[[TwilioAction], None],
) -> Callable[[TwilioAction], None]:
    """Each REST attempt goes into the call record, and a failed one into the metrics too."""

    def on_action(action: TwilioAction) -> None:
        record(action)
        metrics.twilio_action(action)

    return on_action


def instance_name(settings: Settings) -> str:
    return settings.instance_id or f"{socket.gethostname()}:{settings.bridge_port}"


async def _close_interrupted(store: CallStore, settings: Settings, instance_id: str) -> int:
    """Close the calls an earlier run of this instance left open.

    A SQLite file belongs to one instance: all its open calls are ours. A shared PostgreSQL
    holds other instances' live calls too, so only ours, plus any too old to be alive
    anywhere (an instance that never came back under its name).
    """
    if not settings.database_url.get_secret_value():
        return await store.close_interrupted()
    started_before = utcnow() - CALLS_LAST_AT_MOST
    return await store.close_interrupted(instance_id, started_before)
