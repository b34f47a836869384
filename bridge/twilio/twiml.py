"""TwiML documents the bridge answers webhooks with or pushes through call updates."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from twilio.twiml.voice_response import Connect, Dial, VoiceResponse

# Twilio's limit on each <Parameter>: the name and value together must stay under this.
MAX_PARAMETER_CHARS = 500


def connect_stream_twiml(
    stream_url: str,
    parameters: dict[str, str],
    greeting: str | None = None,
    status_callback: str | None = None,
    if_stream_fails: str | None = None,
) -> str:
    """`<Connect><Stream>` to the media WebSocket; `greeting` is spoken by Twilio first.

    Raises ValueError for what Twilio would refuse at call time: a non-wss URL, a query string
    (data goes in `<Parameter>`s) or a parameter over Twilio's length limit.
    """
    if not (stream_url.startswith("wss://") or _is_loopback_ws(stream_url)):
        raise ValueError(f"stream URL must be wss://, got {stream_url!r}")
    if "?" in stream_url:
        raise ValueError("stream URL must not carry a query string; use parameters")
    for name, value in parameters.items():
        if len(name) + len(value) >= MAX_PARAMETER_CHARS:
            raise ValueError(f"parameter {name!r} is {MAX_PARAMETER_CHARS} characters or more")
    response = VoiceResponse()
    if greeting:
        response.say(greeting)
    connect = Connect()
    stream = connect.stream(url=stream_url, status_callback=status_callback)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    response.append(connect)
    if if_stream_fails:
        # Twilio goes on to the next verb only when our side closed the stream while the call
        # was still up (a fault): then the caller hears this rather than a silent hang-up.
        response.say(if_stream_fails)
    return str(response)


def _is_loopback_ws(url: str) -> bool:
    """Plain ws:// to this machine: only the local simulator, never Twilio, connects there."""
    parts = urlsplit(url)
    return parts.scheme == "ws" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def _dial(target: str, caller_id: str | None) -> Dial:
    dial = Dial(caller_id=caller_id)
    if target.lower().startswith(("sip:", "sips:")):
        dial.sip(target)
    else:
        dial.number(target)
    return dial


def transfer_twiml(target: str, caller_id: str | None, announcement: str) -> str:
    """Announce, then dial `target` (E.164 number, or a SIP URI through `<Sip>`)."""
    return say_and_dial_twiml(announcement, target, caller_id)


def say_and_dial_twiml(message: str, target: str | None, caller_id: str | None = None) -> str:
    """Say `message`, then dial `target`, or hang up when there is none (overflow)."""
    response = VoiceResponse()
    if message:
        response.say(message)
    if target:
        response.append(_dial(target, caller_id))
    else:
        response.hangup()
    return str(response)


def reject_twiml(reason: Literal["rejected", "busy"] = "rejected") -> str:
    """Refuse the call without answering it (no charge); `busy` plays a busy signal."""
    response = VoiceResponse()
    response.reject(reason=reason)
    return str(response)
