"""The bridge's Prometheus metrics, and one small function per thing worth counting.

Metrics live in prometheus_client's default registry (next to its process collector), so
`/metrics` shows the bridge and the process together. Labels are kept to small, fixed sets:
an unexpected tool name or error kind is counted under "other".
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from bridge.records import CallUsage, TurnRecord, TurnUsage, TwilioAction

# The stages of a turn, as TurnLatency names them: STT, the agent's first words, the first
# synthesized audio and the first `media` frame sent, each from the end of the caller's turn.
STAGES = ("stt", "agent", "tts_first_audio", "first_media")
KNOWN_TOOLS = frozenset({"transfer_call", "check_order_status", "end_call"})
STAGE_BUCKETS_S = (0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

ACTIVE_CALLS = Gauge("bridge_active_calls", "Calls with a live media stream on this instance.")
CALLS = Counter("bridge_calls_total", "Calls ended on this instance, by outcome.", ["status"])
TURNS = Counter("bridge_turns_total", "Turns answered, by what started them.", ["source"])
STAGE_SECONDS = Histogram(
    "bridge_turn_stage_seconds",
    "Time from the end of the caller's turn to each stage of the reply.",
    ["stage"],
    buckets=STAGE_BUCKETS_S,
)
BARGE_INS = Counter("bridge_barge_ins_total", "Times a caller talked over the agent.")
TOKENS = Counter(
    "bridge_agent_tokens_total",
    "Tokens the agent used, by provider and kind (text_in, audio_in, text_out, audio_out).",
    ["provider", "kind"],
)
COST = Counter("bridge_agent_cost_usd_total", "Estimated agent cost in US dollars.", ["provider"])
CALL_SECONDS = Counter(
    "bridge_call_seconds_total", "Length of the calls ended (their notes written), in seconds."
)
SPEECH_SECONDS = Counter(
    "bridge_speech_seconds_total",
    "Speaking time in the calls ended: the caller's turns, the agent as heard.",
    ["side"],
)
REALTIME_FALLBACKS = Counter(
    "bridge_realtime_fallbacks_total",
    "Realtime calls handed to the cascaded pipeline (session not opened, dropped, or silent).",
)
TOOL_CALLS = Counter(
    "bridge_tool_calls_total", "Tool calls, by tool and outcome (ok or error).", ["tool", "outcome"]
)
PROVIDER_ERRORS = Counter(
    "bridge_provider_errors_total",
    "Failures of a speech or LLM provider, by provider and kind.",
    ["provider", "kind"],
)
TWILIO_REST_ERRORS = Counter(
    "bridge_twilio_rest_errors_total",
    "Failed REST requests to Twilio (each attempt), by kind.",
    ["kind"],
)


def call_started() -> None:
    ACTIVE_CALLS.inc()


def call_ended(status: str) -> None:
    ACTIVE_CALLS.dec()
    CALLS.labels(status).inc()


def turn_done(turn: TurnRecord) -> None:
    TURNS.labels(turn.source).inc()
    for stage in STAGES:
        ms = getattr(turn.latency_ms, stage)
        if ms is not None:
            STAGE_SECONDS.labels(stage).observe(ms / 1000)
    tokens_used(turn.usage)


def call_used(usage: CallUsage, notes: TurnUsage | None) -> None:
    """A call is over: its length and speaking time, and the LLM's notes on it (its turns'
    tokens were counted as they came)."""
    CALL_SECONDS.inc(usage.call_seconds)
    SPEECH_SECONDS.labels("caller").inc(usage.caller_speech_seconds)
    SPEECH_SECONDS.labels("agent").inc(usage.agent_speech_seconds)
    tokens_used(notes)


def tokens_used(usage: TurnUsage | None) -> None:
    if usage is not None and usage.provider:
        for kind, tokens in (
            ("text_in", usage.prompt_tokens - usage.audio_prompt_tokens),
            ("audio_in", usage.audio_prompt_tokens),
            ("text_out", usage.completion_tokens - usage.audio_completion_tokens),
            ("audio_out", usage.audio_completion_tokens),
        ):
            if tokens:
                TOKENS.labels(usage.provider, kind).inc(tokens)
        COST.labels(usage.provider).inc(usage.cost_usd)


def barge_in() -> None:
    BARGE_INS.inc()


def realtime_fallback() -> None:
    REALTIME_FALLBACKS.inc()


def tool_called(name: str, result: dict[str, object]) -> None:
    tool = name if name in KNOWN_TOOLS else "other"
    TOOL_CALLS.labels(tool, "error" if result.get("error") else "ok").inc()


def provider_error(provider: str, kind: str) -> None:
    PROVIDER_ERRORS.labels(provider, kind).inc()


def twilio_action(action: TwilioAction) -> None:
    """Count a failed REST attempt; `action.error` is what TwilioCallControl made of it."""
    if not action.ok:
        TWILIO_REST_ERRORS.labels(rest_error_kind(action.error)).inc()


def rest_error_kind(error: str) -> str:
    """ "HTTP 503 (...)" -> "http_503"; a timeout -> "timeout"; anything else -> "network"."""
    if error.startswith("HTTP "):
        status = error.removeprefix("HTTP ").split(" ", 1)[0]
        return f"http_{status}" if status.isdigit() else "http_other"
    if error == "no answer in time":
        return "timeout"
    return "network"
