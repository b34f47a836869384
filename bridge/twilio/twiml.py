"""TwiML documents the bridge answers webhooks with or pushes through call updates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode, urlsplit

from twilio.twiml.voice_response import Connect, Dial, Gather, VoiceResponse

# Where Twilio posts how a transfer's <Dial> ended (the action webhook).
DIAL_ACTION_PATH = "/twilio/dial-action"

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


# Twilio allows 1024 characters of X- headers on a <Sip> URI; each value is cut to this.
MAX_SIP_HEADER_VALUE = 200


@dataclass(frozen=True)
class DialOutcome:
    """Where Twilio reports how a `<Dial>` ended (`action`), and how long it may ring."""

    action_url: str
    timeout_s: int = 20
    # X- headers for a SIP target, so the PBX knows the context (CallSid, reason).
    sip_headers: dict[str, str] = field(default_factory=dict)


def sip_with_headers(uri: str, headers: dict[str, str]) -> str:
    """`uri?X-Name=value&...`: how Twilio's `<Sip>` sends custom headers in the INVITE.

    Only `X-` names; values are URL-encoded and cut to MAX_SIP_HEADER_VALUE characters.
    """
    for name in headers:
        if not name.startswith("X-"):
            raise ValueError(f"SIP header {name!r} must start with X-")
    query = urlencode({name: value[:MAX_SIP_HEADER_VALUE] for name, value in headers.items()})
    if not query:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def _dial(target: str, caller_id: str | None, outcome: DialOutcome | None = None) -> Dial:
    if outcome is None:
        dial = Dial(caller_id=caller_id)
    else:
        dial = Dial(
            caller_id=caller_id,
            timeout=outcome.timeout_s,
            action=outcome.action_url,
            method="POST",
        )
    if target.lower().startswith(("sip:", "sips:")):
        dial.sip(sip_with_headers(target, outcome.sip_headers if outcome else {}))
    else:
        dial.number(target)
    return dial


def transfer_twiml(
    target: str, caller_id: str | None, announcement: str, outcome: DialOutcome
) -> str:
    """Announce, then dial `target` (E.164 number, or a SIP URI through `<Sip>`) for at most
    `outcome.timeout_s`; Twilio then posts how it went to `outcome.action_url`, whose answer
    (the caller back with the agent, or a hang-up) is what the caller gets next."""
    response = VoiceResponse()
    if announcement:
        response.say(announcement)
    response.append(_dial(target, caller_id, outcome))
    return str(response)


def hold_twiml(
    announcement: str, conference: str, wait_url: str | None, left_url: str | None = None
) -> str:
    """The caller, announced, waits in `conference` (hold audio from `wait_url`, Twilio's
    music when None) until a participant who starts it joins; when the caller leaves, the
    conference ends (the human is not left talking to no one), and `left_url` hears of it
    (the conference's `participant-leave` status callback)."""
    response = VoiceResponse()
    if announcement:
        response.say(announcement)
    dial = Dial()
    dial.conference(
        conference,
        start_conference_on_enter=False,
        end_conference_on_exit=True,
        wait_url=wait_url,
        wait_method="GET" if wait_url else None,
        beep=False,
        status_callback=left_url,
        status_callback_event="leave" if left_url else None,
        status_callback_method="POST" if left_url else None,
    )
    response.append(dial)
    return str(response)


ACCEPT_PROMPT = "Press 1 to take the call, or any other key to send the caller back."


def brief_twiml(brief: str, accept_url: str, timeout_s: int) -> str:
    """What the human hears on answering: the brief, then a one-key choice posted to
    `accept_url` (with no key pressed too: `actionOnEmptyResult`)."""
    response = VoiceResponse()
    gather = Gather(
        num_digits=1,
        action=accept_url,
        method="POST",
        timeout=timeout_s,
        action_on_empty_result=True,
    )
    gather.say(brief)
    gather.say(ACCEPT_PROMPT)
    response.append(gather)
    return str(response)


def join_twiml(conference: str) -> str:
    """The human who accepted joins the caller's conference, starting it (the hold audio
    stops); when they hang up it ends, so the caller is not left on hold."""
    response = VoiceResponse()
    response.say("Connecting you now.")
    dial = Dial()
    dial.conference(
        conference, start_conference_on_enter=True, end_conference_on_exit=True, beep=False
    )
    response.append(dial)
    return str(response)


def say_and_hang_up_twiml(message: str) -> str:
    response = VoiceResponse()
    response.say(message)
    response.hangup()
    return str(response)


def hangup_twiml() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


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
