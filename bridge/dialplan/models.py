"""What an admin can set per phone number, validated (unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bridge.addresses import E164, check_number_entry
from bridge.dialplan.agent_settings import AgentSettings
from bridge.dialplan.language import with_language_defaults
from bridge.dialplan.outbound import OutboundSettings
from bridge.dialplan.voice_settings import VoiceSettings


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_target(value: str) -> str:
    if E164.match(value) or value.startswith(("sip:", "sips:")):
        return value
    raise ValueError(f"{value!r} is neither an E.164 number (+15551234567) nor a SIP URI")


class Department(Strict):
    """Somewhere a caller can be transferred: a number or a SIP URI."""

    target: str = Field(description="E.164 number or sip:/sips: URI")
    synonyms: list[str] = Field(default_factory=list)
    announcement: str = ""  # spoken by Twilio before dialing; default "Transferring you to X."
    # How long the human's phone rings before the caller comes back to the agent (<Dial timeout>).
    ring_timeout_s: int = Field(default=20, ge=5, le=600)
    # blind: the caller is dialled straight through. warm: the caller holds in a conference
    # while the human hears a summary of the call and presses 1 to take it.
    transfer: Literal["blind", "warm"] = "blind"
    # warm: what the caller hears while holding (a conference waitUrl); None: Twilio's music.
    hold_music_url: str | None = Field(default=None, pattern=r"^https?://")
    # warm: how long the human has to press 1 once the summary is said.
    accept_timeout_s: int = Field(default=8, ge=2, le=60)

    @field_validator("target")
    @classmethod
    def _target_is_dialable(cls, value: str) -> str:
        return _check_target(value)


class TurnSettings(Strict):
    """How the caller's turns are found in the audio."""

    # Who hears voice in a frame: webrtcvad (a few us a frame) or Silero VAD (an ONNX model,
    # ~30x the CPU; `pip install --no-deps silero-vad`). See README, "Hearing the caller".
    vad: Literal["webrtc", "silero"] = "webrtc"
    vad_aggressiveness: int = Field(default=2, ge=0, le=3)  # webrtc's mode
    vad_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)  # silero's speech probability
    # Noise suppression (`pip install --no-deps pyrnnoise`), for the VAD only (measured: it
    # helps webrtcvad hear speech in loud hiss) or for the recogniser too (measured: worse).
    noise_suppression: Literal["off", "rnnoise"] = "off"
    suppress_for: Literal["vad", "vad_and_stt"] = "vad"
    onset_ms: int = Field(default=60, ge=20, le=1000)  # speech this long starts a turn
    # model: the turn-end model and the words so far choose between complete_ms and
    # incomplete_ms at every pause; silence (or no model installed): silence_ms, always.
    endpointing: Literal["model", "silence"] = "model"
    silence_ms: int = Field(default=600, ge=100, le=5000)  # silence this long ends it
    complete_ms: int = Field(default=250, ge=20, le=5000)  # ...when the caller sounds done
    incomplete_ms: int = Field(default=1600, ge=100, le=10000)  # ...when they do not
    complete_threshold: float = Field(default=0.5, gt=0.0, lt=1.0)  # model P(done) to trust
    # After the agent asks for digits (an order number, a ZIP), every pause of the next turn
    # lasts this long: callers read digits in groups.
    digits_ms: int = Field(default=1600, ge=100, le=10000)

    @model_validator(mode="after")
    def _complete_is_the_shorter(self) -> TurnSettings:
        if self.complete_ms > self.incomplete_ms:
            raise ValueError(
                f"complete_ms ({self.complete_ms}) must not exceed incomplete_ms "
                f"({self.incomplete_ms})"
            )
        return self

    min_utterance_ms: int = Field(default=250, ge=0, le=5000)  # shorter: a cough, dropped
    max_utterance_ms: int = Field(default=15000, ge=1000, le=60000)  # longer: cut here


class OrderAccess(Strict):
    """Who may hear an order: its customer's phone, or a caller who knows `verification`."""

    # An order field the caller may say to prove the order is theirs when calling from
    # another number; None: only the order's own phone number may hear it.
    verification: Literal["zip"] | None = None


class CsvOrders(OrderAccess):
    type: Literal["csv"] = "csv"
    path: Path  # relative paths are relative to the dialplan file


class SqliteOrders(OrderAccess):
    type: Literal["sqlite"] = "sqlite"
    path: Path
    table: str = "orders"


class HttpOrders(OrderAccess):
    type: Literal["http"] = "http"
    url: str  # GET {url}/{order_id} -> JSON order, 404 when unknown
    timeout_s: float = Field(default=3.0, gt=0, le=30)
    headers: dict[str, str] = Field(default_factory=dict)


OrderBackend = CsvOrders | SqliteOrders | HttpOrders


class KeyAction(Strict):
    """What one DTMF key does when pressed on its own."""

    transfer: str | None = None  # a department name
    say: str | None = None


class DtmfSettings(Strict):
    keys: dict[str, KeyAction] = Field(default_factory=dict)
    order_id_terminator: str = "#"
    inter_digit_timeout_ms: int = Field(default=5000, ge=500, le=30000)
    # A mapped key acts once this long passes without another key (0: at once); a key that
    # follows makes it the first digit of a keyed entry instead.
    key_pause_ms: int = Field(default=1000, ge=0, le=5000)

    @field_validator("keys")
    @classmethod
    def _keys_are_digits(cls, keys: dict[str, KeyAction]) -> dict[str, KeyAction]:
        for key in keys:
            if key not in "0123456789*#" or len(key) != 1:
                raise ValueError(f"key {key!r} is not one of 0-9, * or #")
        return keys


class Overflow(Strict):
    """What a caller hears when the bridge takes no more calls (at capacity or shutting down)."""

    message: str = "Sorry, all our lines are busy right now. Please call again in a few minutes."
    department: str | None = None  # dial this department after the message; else hang up
    reject: bool = False  # refuse the call unanswered (`<Reject>`): no message, no charge


DEFAULT_BACKCHANNELS = [
    "mm-hmm", "mhm", "mm", "hmm", "uh-huh", "uh", "um", "okay", "ok", "yeah", "right",
    "sure", "alright", "i see", "got it",
]  # fmt: skip


class InterruptionSettings(Strict):
    """When the caller's sound over the agent is not an interruption, and what happens then.

    `clear` goes out on speech onset either way; a false interruption resumes the reply from
    the start of the sentence it cut.
    """

    resume: bool = True  # false: any sound over the agent drops its reply, as a real one
    min_ms: int = Field(default=0, ge=0, le=5000)  # shorter speech is not an interruption
    min_words: int = Field(default=1, ge=1, le=10)  # fewer words (backchannels aside) neither
    backchannels: list[str] = Field(default_factory=lambda: list(DEFAULT_BACKCHANNELS))
    # No words heard this long after the onset (babble, a cough fit): resume over it.
    words_within_ms: int = Field(default=2500, ge=500, le=30000)


class IdleSettings(Strict):
    """The caller who goes quiet: reprompts, then a goodbye (the dialplan's) and a hang-up."""

    after_ms: int = Field(default=8000, ge=0, le=120000)  # 0: never reprompt
    reprompts: int = Field(default=2, ge=0, le=10)  # then the goodbye
    reprompt: str = Field(default="Are you still there?", min_length=1)


class RecognitionSettings(Strict):
    """How this line's callers are heard (the local recogniser; OpenAI uses the language)."""

    # "tiny.en" (default, English only), "base" (multilingual), or a faster-whisper folder.
    model: str = ""
    # What callers speak: an ISO 639-1 code, or "auto" to detect it on each turn.
    language: str = Field(default="en", pattern=r"^(auto|[a-z]{2})$")
    # Words callers say that the recogniser should expect, beyond the ones the dialplan
    # already names (business name, departments and their synonyms).
    vocabulary: list[str] = Field(default_factory=list)
    # Steady line noise reduced in each turn before the local recogniser hears it
    # (audio/denoise.py); "off" hands it the line as it is.
    denoise: Literal["off", "spectral"] = "spectral"

    @model_validator(mode="after")
    def _english_model_hears_english(self) -> RecognitionSettings:
        if self.language != "en" and (self.model or "tiny.en").endswith(".en"):
            raise ValueError(
                f"language {self.language!r} needs a multilingual model "
                f"(model: base), not {self.model or 'tiny.en'!r}"
            )
        return self


class CallSettings(Strict):
    """How the call keeps the conversation going: busy turns, interruptions, no dead air."""

    # Cancel the answer and reply to the new turn, or queue the turn (up to `queue_limit`).
    busy_policy: Literal["cancel", "queue"] = "cancel"
    queue_limit: int = Field(default=2, ge=1, le=10)
    interruptions: InterruptionSettings = Field(default_factory=InterruptionSettings)
    # No agent audio this long after the caller stopped speaking: a filler plays (once a turn).
    filler_after_ms: int = Field(default=1500, ge=0, le=10000)  # 0: never
    fillers: list[str] = Field(default_factory=lambda: ["One moment."], min_length=1)
    # Still no reply audio this long after the filler (or the last keep-alive) was heard: a
    # keep-alive plays, at most `max_keepalives` times a turn; then the agent's own deadlines
    # and fallbacks have the line. With the filler's 1500 ms, no silence reaches 2 s meanwhile.
    keepalive_after_ms: int = Field(default=1500, ge=0, le=10000)  # 0: never
    max_keepalives: int = Field(default=2, ge=0, le=10)
    keepalives: list[str] = Field(
        default_factory=lambda: ["Thanks for waiting, I'm still on it."], min_length=1
    )
    # A recogniser with no words this long after the caller stopped speaking (endpointing
    # included) has failed: `not_heard`. A guard against a hung vendor, not a latency target:
    # on a CPU-starved machine local transcripts take seconds, and asking again costs more.
    stt_timeout_ms: int = Field(default=6000, ge=0, le=60000)  # 0: wait as long as it takes
    # A voice with no audio this long after it was asked (or after its last audio) has
    # failed: the piece is dropped and `voice_failed` said.
    voice_timeout_ms: int = Field(default=2500, ge=0, le=60000)  # 0: wait as long as it takes
    # Spoken from the phrase cache when speech recognition or the voice fails.
    not_heard: str = Field(default="Sorry, I didn't catch that. Could you say it again?")
    voice_failed: str = Field(default="Sorry, I'm having trouble speaking right now.")
    idle: IdleSettings = Field(default_factory=IdleSettings)


class RecordingSettings(Strict):
    """The bridge's own stereo recording of each call, announced first."""

    enabled: bool = False
    # Said before the greeting, as the first words of the call (so it is in the recording).
    announcement: str = Field(
        default="This call may be recorded for quality and training.", min_length=1
    )
    retention_days: int = Field(default=30, ge=1, le=3650)  # then the bridge deletes it


class AfterCallSettings(Strict):
    """What happens once a call is over: a summary and disposition, sent to a webhook."""

    webhook_url: str | None = None  # POST the call here as JSON, signed (see README)
    # The environment variable holding the HMAC-SHA256 key (required with webhook_url).
    webhook_secret_env: str = Field(default="", pattern=r"^[A-Z_][A-Z0-9_]*$|^$")
    dispositions: list[str] = Field(
        default_factory=lambda: ["resolved", "transferred", "abandoned"], min_length=1
    )
    # Structured fields to fill from each call: a JSON Schema of an object (draft 2020-12).
    fields: dict[str, Any] | None = None
    # The dialplan's LLM chain writes the summary, disposition and fields (when a provider
    # is configured); false, or when it fails: rules.
    llm: bool = True

    @field_validator("fields")
    @classmethod
    def _fields_is_an_object_schema(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is None:
            return None
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from None
        if schema.get("type") != "object":
            raise ValueError("must be the schema of an object (type: object)")
        return schema

    @model_validator(mode="after")
    def _signed(self) -> AfterCallSettings:
        if self.webhook_url is not None:
            if not self.webhook_url.startswith(("https://", "http://")):
                raise ValueError("webhook_url must be an http(s) URL")
            if not self.webhook_secret_env:
                raise ValueError("webhook_url needs webhook_secret_env (the signing key)")
        return self


class Dialplan(Strict):
    """One business line: who answers, how, and what the agent may do."""

    name: str
    # The `To` it serves: E.164 numbers, SIP URIs (sip:user@host, sip:host) or SIP user parts.
    numbers: list[str] = Field(default_factory=list)
    default: bool = False  # serves numbers no other dialplan claims
    business_name: str = ""
    business_info: str = ""  # hours, address...: context the agent may use
    prompt: str = ""  # system prompt for LLM agents; empty for the voice-first default
    greeting: str = "Hello, how can I help you?"
    greet_in_twiml: bool = False  # speak the greeting with Twilio's <Say> before the stream
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    recognition: RecognitionSettings = Field(default_factory=RecognitionSettings)
    caller_id: str | None = None  # callerId for transfers; defaults to the called number
    departments: dict[str, Department] = Field(default_factory=dict)
    orders: OrderBackend | None = Field(default=None, discriminator="type")
    turns: TurnSettings = Field(default_factory=TurnSettings)
    dtmf: DtmfSettings = Field(default_factory=DtmfSettings)
    goodbye: str = "Thank you for calling. Goodbye!"
    reprompt: str = "Sorry, I can help with order status or connect you to a department."
    agent: AgentSettings = Field(default_factory=AgentSettings)
    call: CallSettings = Field(default_factory=CallSettings)
    overflow: Overflow = Field(default_factory=Overflow)
    recording: RecordingSettings = Field(default_factory=RecordingSettings)
    after_call: AfterCallSettings = Field(default_factory=AfterCallSettings)
    # Where a transfer goes when its own department cannot be reached (a department name).
    transfer_fallback: str | None = None
    # What the agent says when a transferred caller comes back unanswered: {department} and
    # {outcome} ("didn't answer", "is busy", "couldn't be reached") are filled in.
    transfer_returned: str = Field(
        default=(
            "Sorry, {department} {outcome}. I can try another department, take a message, "
            "or arrange a call back. What would you like?"
        ),
        min_length=1,
    )
    # The agent may take a message or a call-back request (the `take_message` tool).
    take_messages: bool = True
    # What outbound calls from this dialplan are for; None: it places no calls.
    outbound: OutboundSettings | None = None

    # Where the file came from, set by the loader (not a YAML key).
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _texts_in_the_callers_language(cls, data: Any) -> Any:
        return with_language_defaults(data)

    @field_validator("numbers")
    @classmethod
    def _numbers_are_addresses(cls, numbers: list[str]) -> list[str]:
        return [check_number_entry(number) for number in numbers]

    @field_validator("caller_id")
    @classmethod
    def _caller_id_is_e164(cls, value: str | None) -> str | None:
        if value is not None and not E164.match(value):
            raise ValueError(f"{value!r} is not an E.164 number like +15551234567")
        return value

    @field_validator("transfer_returned")
    @classmethod
    def _only_known_placeholders(cls, value: str) -> str:
        try:
            value.format(department="sales", outcome="didn't answer")
        except (KeyError, IndexError, ValueError) as exc:
            message = f"only {{department}} and {{outcome}} may be filled in: {exc}"
            raise ValueError(message) from None
        return value

    @model_validator(mode="after")
    def _recording_is_announced_on_the_stream(self) -> Dialplan:
        if self.recording.enabled and self.greet_in_twiml:
            raise ValueError(
                "recording.enabled needs greet_in_twiml: false (the announcement is the "
                "first thing said on the recorded stream)"
            )
        return self

    @model_validator(mode="after")
    def _keys_name_departments(self) -> Dialplan:
        for key, action in self.dtmf.keys.items():
            if action.transfer and action.transfer not in self.departments:
                raise ValueError(
                    f"dtmf key {key!r} transfers to unknown department {action.transfer!r}"
                )
        for field, name in (
            ("overflow.department", self.overflow.department),
            ("transfer_fallback", self.transfer_fallback),
        ):
            if name is not None and name not in self.departments:
                raise ValueError(f"{field} names unknown department {name!r}")
        if self.outbound is not None and self.outbound.from_number is None and not self.numbers:
            raise ValueError("outbound needs a from_number when the dialplan has no numbers")
        return self
