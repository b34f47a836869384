"""Parsing Twilio's Media Streams frames and building both sides' frames."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.twilio.messages import (
    ClearMessage,
    ConnectedMessage,
    DtmfMessage,
    MalformedFrame,
    MarkMessage,
    MediaMessage,
    OutboundMark,
    OutboundMedia,
    StartMessage,
    StopMessage,
    UnknownEvent,
    clear_message,
    connected_message,
    dtmf_message,
    inbound_media_message,
    mark_echo_message,
    mark_message,
    media_message,
    parse_inbound,
    parse_outbound,
    start_message,
    stop_message,
)

STREAM = "MZ" + "a" * 32
CALL = "CA" + "b" * 32
ACCOUNT = "AC" + "c" * 32
PAYLOAD = base64.b64encode(bytes(range(160))).decode()

# Verbatim from Twilio's websocket-messages doc (numbers as strings).
TWILIO_START = (
    '{"event":"start","sequenceNumber":"1","start":{"accountSid":"ACx","streamSid":"MZx",'
    '"callSid":"CAx","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw",'
    '"sampleRate":8000,"channels":1},"customParameters":{"FirstName":"Jane"}},"streamSid":"MZx"}'
)
TWILIO_MEDIA = (
    '{"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"2",'
    '"timestamp":"5","payload":"no+JhoaJjpzS"},"streamSid":"MZx"}'
)


def test_start_exposes_custom_parameters_and_int_sequence() -> None:
    message = parse_inbound(TWILIO_START)
    assert isinstance(message, StartMessage)
    assert message.sequence_number == 1
    assert message.start.call_sid == "CAx"
    assert message.start.custom_parameters == {"FirstName": "Jane"}
    assert message.start.media_format.sample_rate == 8000


def test_media_string_numbers_become_ints() -> None:
    message = parse_inbound(TWILIO_MEDIA)
    assert isinstance(message, MediaMessage)
    assert (message.sequence_number, message.media.chunk, message.media.timestamp) == (4, 2, 5)
    assert message.media.payload == "no+JhoaJjpzS"
    assert message.stream_sid == "MZx"


def test_media_accepts_int_numbers_too() -> None:
    raw = json.loads(TWILIO_MEDIA)
    raw["sequenceNumber"], raw["media"]["chunk"], raw["media"]["timestamp"] = 4, 2, 5
    message = parse_inbound(json.dumps(raw))
    assert isinstance(message, MediaMessage)
    assert message.media.chunk == 2


def test_unknown_extra_fields_are_tolerated() -> None:
    raw = json.loads(TWILIO_MEDIA)
    raw["newTopLevel"] = {"x": 1}
    raw["media"]["newInner"] = "y"
    assert isinstance(parse_inbound(json.dumps(raw)), MediaMessage)


def test_utf8_bytes_parse_like_text() -> None:
    assert isinstance(parse_inbound(TWILIO_MEDIA.encode()), MediaMessage)


def test_connected_dtmf_mark_stop_parse() -> None:
    assert isinstance(
        parse_inbound('{"event":"connected","protocol":"Call","version":"1.0.0"}'),
        ConnectedMessage,
    )
    dtmf = parse_inbound(
        '{"event":"dtmf","streamSid":"MZx","sequenceNumber":"5",'
        '"dtmf":{"track":"inbound_track","digit":"1"}}'
    )
    assert isinstance(dtmf, DtmfMessage) and dtmf.dtmf.digit == "1"
    mark = parse_inbound(
        '{"event":"mark","sequenceNumber":"4","streamSid":"MZx","mark":{"name":"my label"}}'
    )
    assert isinstance(mark, MarkMessage) and mark.mark.name == "my label"
    stop = parse_inbound(
        '{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"ACx","callSid":"CAx"},'
        '"streamSid":"MZx"}'
    )
    assert isinstance(stop, StopMessage) and stop.stop.call_sid == "CAx"


@pytest.mark.parametrize(
    ("raw", "reason_start"),
    [
        ("not json", "not JSON"),
        (b"\xff\xfe\x00binary", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"streamSid":"MZ"}', "missing event"),
        ('"media"', "not a JSON object"),
        ('{"event":"media","sequenceNumber":"x","streamSid":"MZ","media":{}}', "bad field"),
        ('{"event":"media","sequenceNumber":"1","streamSid":"MZ"}', "bad field media"),
        ('{"event":"start","sequenceNumber":"1","streamSid":"MZ","start":{}}', "bad field"),
    ],
)
def test_malformed_frames_raise_malformed_not_unknown(raw: str | bytes, reason_start: str) -> None:
    with pytest.raises(MalformedFrame) as caught:
        parse_inbound(raw)
    assert not isinstance(caught.value, UnknownEvent)
    assert caught.value.reason.startswith(reason_start)


@pytest.mark.parametrize(
    "raw", ['{"event":"clear","streamSid":"MZ"}', '{"event":"future"}', '{"event":7}']
)
def test_unknown_or_missing_event_raises_unknown_event(raw: str) -> None:
    with pytest.raises(UnknownEvent):
        parse_inbound(raw)


def test_simulator_builders_round_trip_through_parse() -> None:
    start = parse_inbound(start_message(STREAM, CALL, ACCOUNT, {"token": "t0k"}, seq=1))
    assert isinstance(start, StartMessage)
    assert (start.stream_sid, start.start.call_sid, start.start.account_sid) == (
        STREAM,
        CALL,
        ACCOUNT,
    )
    assert start.start.custom_parameters == {"token": "t0k"}

    media = parse_inbound(inbound_media_message(STREAM, 7, 3, 40, PAYLOAD))
    assert isinstance(media, MediaMessage)
    assert (media.sequence_number, media.media.chunk, media.media.timestamp) == (7, 3, 40)
    assert media.media.payload == PAYLOAD

    dtmf = parse_inbound(dtmf_message(STREAM, 8, "#"))
    assert isinstance(dtmf, DtmfMessage) and dtmf.dtmf.digit == "#"
    mark = parse_inbound(mark_echo_message(STREAM, 9, 'utt "1"'))
    assert isinstance(mark, MarkMessage) and mark.mark.name == 'utt "1"'
    stop = parse_inbound(stop_message(STREAM, 10, CALL, ACCOUNT))
    assert isinstance(stop, StopMessage) and stop.sequence_number == 10
    assert isinstance(parse_inbound(connected_message()), ConnectedMessage)


def test_simulator_builders_write_numbers_as_strings_like_twilio() -> None:
    media = json.loads(inbound_media_message(STREAM, 7, 3, 40, PAYLOAD))
    assert media["sequenceNumber"] == "7"
    assert media["media"] == {
        "track": "inbound",
        "chunk": "3",
        "timestamp": "40",
        "payload": PAYLOAD,
    }
    start = json.loads(start_message(STREAM, CALL, ACCOUNT, {}))
    assert start["sequenceNumber"] == "1"
    assert start["start"]["mediaFormat"] == {
        "encoding": "audio/x-mulaw",
        "sampleRate": 8000,
        "channels": 1,
    }
    assert "streamSid" not in json.loads(connected_message())


def test_server_builders_produce_twilio_exact_json() -> None:
    assert json.loads(media_message(STREAM, PAYLOAD)) == {
        "event": "media",
        "streamSid": STREAM,
        "media": {"payload": PAYLOAD},
    }
    assert json.loads(mark_message(STREAM, 'a "quoted" \\ name')) == {
        "event": "mark",
        "streamSid": STREAM,
        "mark": {"name": 'a "quoted" \\ name'},
    }
    assert json.loads(clear_message(STREAM)) == {"event": "clear", "streamSid": STREAM}


def test_server_builders_round_trip_through_parse_outbound() -> None:
    media = parse_outbound(media_message(STREAM, PAYLOAD))
    assert isinstance(media, OutboundMedia) and media.media.payload == PAYLOAD
    mark = parse_outbound(mark_message(STREAM, "utt-42"))
    assert isinstance(mark, OutboundMark) and mark.mark.name == "utt-42"
    clear = parse_outbound(clear_message(STREAM))
    assert isinstance(clear, ClearMessage) and clear.stream_sid == STREAM
    with pytest.raises(UnknownEvent):
        parse_outbound('{"event":"connected"}')


@given(
    seq=st.integers(min_value=1, max_value=2**40),
    chunk=st.integers(min_value=1, max_value=2**40),
    timestamp=st.integers(min_value=0, max_value=2**40),
    audio=st.binary(max_size=400),
)
def test_any_inbound_media_round_trips(seq: int, chunk: int, timestamp: int, audio: bytes) -> None:
    payload = base64.b64encode(audio).decode()
    message = parse_inbound(inbound_media_message(STREAM, seq, chunk, timestamp, payload))
    assert isinstance(message, MediaMessage)
    assert (message.sequence_number, message.media.chunk, message.media.timestamp) == (
        seq,
        chunk,
        timestamp,
    )
    assert base64.b64decode(message.media.payload) == audio


@given(name=st.text(max_size=60), stream_sid=st.text(min_size=1, max_size=40))
def test_any_mark_name_survives_both_directions(name: str, stream_sid: str) -> None:
    sent = parse_outbound(mark_message(stream_sid, name))
    assert isinstance(sent, OutboundMark) and (sent.stream_sid, sent.mark.name) == (
        stream_sid,
        name,
    )
    echoed = parse_inbound(mark_echo_message(stream_sid, 3, name))
    assert isinstance(echoed, MarkMessage) and echoed.mark.name == name
