"""TwiML the bridge answers with: shape, attributes and escaping, as Twilio will parse them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bridge.twilio.twiml import (
    DialOutcome,
    connect_stream_twiml,
    reject_twiml,
    say_and_dial_twiml,
    sip_with_headers,
    transfer_twiml,
)

STREAM_URL = "wss://bridge.example.com/twilio/media"
ACTION = "https://bridge.example.com/twilio/dial-action?department=sales&x=1"


def verbs(twiml: str) -> list[ET.Element]:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return list(root)


def test_connect_stream_carries_parameters_and_status_callback() -> None:
    twiml = connect_stream_twiml(
        STREAM_URL,
        {"token": "abc.def", "dialplan": "sales"},
        greeting=None,
        status_callback="https://bridge.example.com/twilio/stream-status",
    )
    assert twiml.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream')
    [connect] = verbs(twiml)
    assert connect.tag == "Connect"
    [stream] = list(connect)
    assert stream.tag == "Stream"
    assert stream.attrib == {
        "url": STREAM_URL,
        "statusCallback": "https://bridge.example.com/twilio/stream-status",
    }
    assert [(p.tag, p.attrib) for p in stream] == [
        ("Parameter", {"name": "token", "value": "abc.def"}),
        ("Parameter", {"name": "dialplan", "value": "sales"}),
    ]


def test_connect_stream_greeting_is_said_first_and_escaped() -> None:
    say, connect = verbs(connect_stream_twiml(STREAM_URL, {}, greeting="Hi <you> & co"))
    assert (say.tag, say.text) == ("Say", "Hi <you> & co")
    assert connect.tag == "Connect"
    assert "statusCallback" not in connect[0].attrib


@pytest.mark.parametrize(
    "url",
    ["https://bridge.example.com/twilio/media", "wss://bridge.example.com/twilio/media?t=1"],
)
def test_connect_stream_refuses_urls_twilio_cannot_use(url: str) -> None:
    with pytest.raises(ValueError):
        connect_stream_twiml(url, {})


def test_connect_stream_refuses_oversized_parameter() -> None:
    with pytest.raises(ValueError):
        connect_stream_twiml(STREAM_URL, {"token": "x" * 495})
    connect_stream_twiml(STREAM_URL, {"token": "x" * 494})


def test_transfer_to_number_says_then_dials_with_caller_id() -> None:
    outcome = DialOutcome(ACTION, timeout_s=25)
    twiml = transfer_twiml("+15558675310", "+15017122661", "Connecting you to sales.", outcome)
    assert twiml.endswith(
        '<Response><Say>Connecting you to sales.</Say><Dial action="'
        + ACTION.replace("&", "&amp;")
        + '" callerId="+15017122661" method="POST" timeout="25">'
        "<Number>+15558675310</Number></Dial></Response>"
    )


def test_transfer_to_sip_uri_carries_the_callsid_and_reason_as_x_headers() -> None:
    outcome = DialOutcome(ACTION, sip_headers={"X-CallSid": "CA1", "X-Reason": "refund & more"})
    say, dial = verbs(
        transfer_twiml("sip:agent@pbx.example.com;transport=tls", None, "One moment.", outcome)
    )
    assert say.text == "One moment."
    assert dial.tag == "Dial" and dial.attrib == {
        "action": ACTION,
        "method": "POST",
        "timeout": "20",
    }
    [sip] = list(dial)
    assert (sip.tag, sip.text) == (
        "Sip",
        "sip:agent@pbx.example.com;transport=tls?X-CallSid=CA1&X-Reason=refund+%26+more",
    )


def test_sip_headers_must_be_x_headers_and_long_values_are_cut() -> None:
    with pytest.raises(ValueError, match="X-"):
        sip_with_headers("sip:a@b", {"Subject": "hi"})
    uri = sip_with_headers("sip:a@b?X-Old=1", {"X-Reason": "r" * 5000})
    assert uri.startswith("sip:a@b?X-Old=1&X-Reason=") and len(uri) < 300


def test_overflow_without_target_says_and_hangs_up() -> None:
    say, hangup = verbs(say_and_dial_twiml("All lines are busy.", None))
    assert (say.tag, say.text, hangup.tag) == ("Say", "All lines are busy.", "Hangup")


def test_overflow_with_target_dials_it() -> None:
    _, dial = verbs(say_and_dial_twiml("Please hold.", "+15550001111", "+15017122661"))
    assert dial.attrib == {"callerId": "+15017122661"}
    assert [(n.tag, n.text) for n in dial] == [("Number", "+15550001111")]


def test_reject_defaults_to_rejected_and_can_signal_busy() -> None:
    [reject] = verbs(reject_twiml())
    assert (reject.tag, reject.attrib) == ("Reject", {"reason": "rejected"})
    [busy] = verbs(reject_twiml("busy"))
    assert busy.attrib == {"reason": "busy"}


def test_a_message_after_the_stream_is_said_only_if_the_stream_ends_early() -> None:
    from xml.etree import ElementTree

    from bridge.twilio.twiml import connect_stream_twiml

    twiml = connect_stream_twiml(
        "wss://bridge.example.com/twilio/media", {"token": "t"}, if_stream_fails="Sorry."
    )
    verbs = [child.tag for child in ElementTree.fromstring(twiml)]
    assert verbs == ["Connect", "Say"]
