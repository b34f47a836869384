"""Who called whom: E.164 numbers and SIP URIs, as Twilio puts them in `From` and `To`.

A phone call carries `+15555550200`. A SIP Domain or SIP Interface call carries the INVITE's
URI: `sip:+15555550200@cedar.sip.twilio.com`, `sip:alice@pbx.example.com:5060;transport=tls`,
and a `From` may come as a name-addr (`"Alice" <sip:alice@10.0.0.5>;tag=1`). The user part of
a SIP URI is the nearest thing it has to a phone number: order checks, transfers' caller id
and verification counters use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# sip:/sips:, an optional user part (anything up to '@'), a host (name, IPv4 or [IPv6]), an
# optional port, then parameters and headers we do not need.
_SIP_URI = re.compile(
    r"^sips?:(?:(?P<user>[^@\s<>;?]+)@)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)"
    r"(?::\d{1,5})?(?:[;?][^\s<>]*)?$",
    re.IGNORECASE,
)
# What a SIP user part may hold (RFC 3261 unreserved, escaped and user-unreserved marks).
_SIP_USER = re.compile(r"^[A-Za-z0-9\-_.!~*'()%&=+$,;?/]+$")
_NAME_ADDR = re.compile(r"<([^>]*)>")


@dataclass(frozen=True)
class SipAddress:
    user: str  # "" when the URI names only a host
    host: str  # lower-cased, no port


def sip_address(text: str) -> SipAddress | None:
    """The user part and host of a SIP URI (or a name-addr holding one); None otherwise."""
    text = text.strip()
    inside = _NAME_ADDR.search(text)
    if inside:
        text = inside.group(1).strip()
    found = _SIP_URI.match(text)
    if found is None:
        return None
    return SipAddress(found["user"] or "", found["host"].lower())


def is_sip(text: str) -> bool:
    return sip_address(text) is not None


def phone_part(address: str) -> str:
    """A number to compare phones with: the user part of a SIP URI, else `address` itself."""
    sip = sip_address(address)
    return sip.user if sip is not None else address


def e164_of(address: str) -> str | None:
    """The E.164 number an address carries (directly or as its SIP user part), else None."""
    number = phone_part(address).split(";")[0]
    return number if E164.match(number) else None


def check_number_entry(entry: str) -> str:
    """A dialplan `numbers:` entry: an E.164 number, a SIP URI (`sip:user@host`, or
    `sip:host` for a whole SIP domain) or a bare SIP user part (`alice`, `1001`)."""
    if E164.match(entry):
        return entry
    if entry.lower().startswith(("sip:", "sips:")):
        if sip_address(entry) is None:
            raise ValueError(f"{entry!r} is not a SIP URI like sip:alice@example.sip.twilio.com")
        return entry
    if "@" not in entry and _SIP_USER.match(entry):
        return entry
    raise ValueError(
        f"{entry!r} is neither an E.164 number (+15551234567), a SIP URI "
        "(sip:alice@example.sip.twilio.com) nor a SIP user part (alice)"
    )


def entry_rank(entry: str, to: str) -> int:
    """How well a `numbers:` entry claims the called address `to`; 0 when it does not.

    4: the same number, or the same SIP user at the same host; 3: a bare user part (or an
    E.164 entry) equal to a SIP `To`'s user part; 2: a `sip:host` entry naming the `To`'s
    domain. A SIP user part is compared as written; hosts without case.
    """
    if entry == to:
        return 4
    called = sip_address(to)
    if called is None:
        return 0
    listed = sip_address(entry)
    if listed is None:
        return 3 if entry == called.user else 0
    if listed.host != called.host:
        return 0
    if listed.user == called.user:
        return 4
    return 2 if not listed.user else 0
