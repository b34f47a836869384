"""Twilio Media Streams messages: parsing what Twilio sends, building what each side sends.

Twilio sends number-like fields as strings ("sequenceNumber":"4"); the models accept strings or
ints and expose ints. Unknown extra fields are tolerated because Twilio adds fields without
notice. The outbound builders write JSON text directly: they run for every audio chunk.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bridge.audio.phone import PHONE_RATE


class _Wire(BaseModel):
    """Base for wire models: camelCase on the wire, snake_case in Python, extras ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class MediaFormat(_Wire):
    encoding: str = "audio/x-mulaw"
    sample_rate: int = Field(PHONE_RATE, alias="sampleRate")
    channels: int = 1


class StartInfo(_Wire):
    account_sid: str = Field(alias="accountSid")
    stream_sid: str = Field(alias="streamSid")
    call_sid: str = Field(alias="callSid")
    tracks: list[str] = Field(default_factory=lambda: ["inbound"])
    media_format: MediaFormat = Field(default_factory=MediaFormat, alias="mediaFormat")
    custom_parameters: dict[str, str] = Field(default_factory=dict, alias="customParameters")


class MediaInfo(_Wire):
    track: str = "inbound"
    chunk: int
    timestamp: int
    payload: str


class DtmfInfo(_Wire):
    track: str = "inbound_track"
    digit: str


class MarkInfo(_Wire):
    name: str


class StopInfo(_Wire):
    account_sid: str = Field(alias="accountSid")
    call_sid: str = Field(alias="callSid")


class ConnectedMessage(_Wire):
    event: Literal["connected"]
    protocol: str = "Call"
    version: str = ""


class _Sequenced(_Wire):
    """What every message after `connected` carries."""

    sequence_number: int = Field(alias="sequenceNumber")
    stream_sid: str = Field(alias="streamSid")


class StartMessage(_Sequenced):
    event: Literal["start"]
    start: StartInfo


class MediaMessage(_Sequenced):
    event: Literal["media"]
    media: MediaInfo


class DtmfMessage(_Sequenced):
    event: Literal["dtmf"]
    dtmf: DtmfInfo


class MarkMessage(_Sequenced):
    event: Literal["mark"]
    mark: MarkInfo


class StopMessage(_Sequenced):
    event: Literal["stop"]
    stop: StopInfo


InboundMessage = Annotated[
    ConnectedMessage | StartMessage | MediaMessage | DtmfMessage | MarkMessage | StopMessage,
    Field(discriminator="event"),
]


class OutboundPayload(_Wire):
    payload: str


class OutboundMedia(_Wire):
    event: Literal["media"]
    stream_sid: str = Field(alias="streamSid")
    media: OutboundPayload


class OutboundMark(_Wire):
    event: Literal["mark"]
    stream_sid: str = Field(alias="streamSid")
    mark: MarkInfo


class ClearMessage(_Wire):
    event: Literal["clear"]
    stream_sid: str = Field(alias="streamSid")


OutboundMessage = Annotated[
    OutboundMedia | OutboundMark | ClearMessage, Field(discriminator="event")
]

# One adapter, built once: pydantic-core parses and validates the JSON in a single pass.
_INBOUND: TypeAdapter[InboundMessage] = TypeAdapter(InboundMessage)
_OUTBOUND: TypeAdapter[OutboundMessage] = TypeAdapter(OutboundMessage)


class MalformedFrame(ValueError):
    """A frame that is not a valid Media Streams message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownEvent(MalformedFrame):
    """A JSON object whose `event` is not one we know (Twilio may add events)."""


def parse_inbound(raw: str | bytes) -> InboundMessage:
    """Parse one frame Twilio sent; raises `UnknownEvent` or `MalformedFrame`."""
    try:
        return _INBOUND.validate_json(raw)
    except ValidationError as exc:
        raise _classify(exc) from None


def parse_outbound(raw: str | bytes) -> OutboundMessage:
    """Parse one frame the server sent (the simulator's side); raises like `parse_inbound`."""
    try:
        return _OUTBOUND.validate_json(raw)
    except ValidationError as exc:
        raise _classify(exc) from None


def _classify(exc: ValidationError) -> MalformedFrame:
    first = exc.errors(include_url=False, include_input=False)[0]
    kind = first["type"]
    if kind == "json_invalid":
        return MalformedFrame(f"not JSON: {first['msg']}")
    if kind in ("dict_type", "model_attributes_type", "model_type") and not first["loc"]:
        return MalformedFrame("not a JSON object")
    if kind == "union_tag_not_found":
        return MalformedFrame("missing event")
    if kind == "union_tag_invalid":
        return UnknownEvent(f"unknown event: {first.get('ctx', {}).get('tag', '?')}")
    where = ".".join(str(part) for part in first["loc"])
    return MalformedFrame(f"bad field {where}: {first['msg']}")


# --- What the server sends to Twilio (hot path: plain string building) ---
# `payload_b64` is base64 text, whose alphabet never needs JSON escaping; sids and names are
# escaped with json.dumps.


def media_message(stream_sid: str, payload_b64: str) -> str:
    """A `media` frame carrying base64 mu-law 8 kHz audio to play to the caller."""
    return (
        '{"event":"media","streamSid":'
        + json.dumps(stream_sid)
        + ',"media":{"payload":"'
        + payload_b64
        + '"}}'
    )


def mark_message(stream_sid: str, name: str) -> str:
    """A `mark` frame; Twilio echoes it once the audio sent before it has played (or cleared)."""
    return (
        '{"event":"mark","streamSid":'
        + json.dumps(stream_sid)
        + ',"mark":{"name":'
        + json.dumps(name)
        + "}}"
    )


def clear_message(stream_sid: str) -> str:
    """A `clear` frame: Twilio drops its buffered audio and echoes every pending mark."""
    return '{"event":"clear","streamSid":' + json.dumps(stream_sid) + "}"


# --- What Twilio sends, built exactly as Twilio does (numbers as strings), for the simulator ---


def _dump(message: dict[str, object]) -> str:
    return json.dumps(message, separators=(",", ":"))


def connected_message() -> str:
    return _dump({"event": "connected", "protocol": "Call", "version": "1.0.0"})


def start_message(
    stream_sid: str,
    call_sid: str,
    account_sid: str,
    custom_parameters: dict[str, str],
    seq: int = 1,
) -> str:
    return _dump(
        {
            "event": "start",
            "sequenceNumber": str(seq),
            "start": {
                "accountSid": account_sid,
                "streamSid": stream_sid,
                "callSid": call_sid,
                "tracks": ["inbound"],
                "mediaFormat": {
                    "encoding": "audio/x-mulaw",
                    "sampleRate": PHONE_RATE,
                    "channels": 1,
                },
                "customParameters": dict(custom_parameters),
            },
            "streamSid": stream_sid,
        }
    )


def inbound_media_message(
    stream_sid: str, seq: int, chunk: int, timestamp_ms: int, payload_b64: str
) -> str:
    return _dump(
        {
            "event": "media",
            "sequenceNumber": str(seq),
            "media": {
                "track": "inbound",
                "chunk": str(chunk),
                "timestamp": str(timestamp_ms),
                "payload": payload_b64,
            },
            "streamSid": stream_sid,
        }
    )


def dtmf_message(stream_sid: str, seq: int, digit: str) -> str:
    return _dump(
        {
            "event": "dtmf",
            "streamSid": stream_sid,
            "sequenceNumber": str(seq),
            "dtmf": {"track": "inbound_track", "digit": digit},
        }
    )


def mark_echo_message(stream_sid: str, seq: int, name: str) -> str:
    return _dump(
        {
            "event": "mark",
            "sequenceNumber": str(seq),
            "streamSid": stream_sid,
            "mark": {"name": name},
        }
    )


def stop_message(stream_sid: str, seq: int, call_sid: str, account_sid: str) -> str:
    return _dump(
        {
            "event": "stop",
            "sequenceNumber": str(seq),
            "stop": {"accountSid": account_sid, "callSid": call_sid},
            "streamSid": stream_sid,
        }
    )
