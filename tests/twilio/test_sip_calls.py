"""SIP Domain and SIP Interface calls: `numbers:` holds SIP URIs and user parts, the voice
webhook routes a SIP `To` by user part and host, and a SIP `From` is a caller's number."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bridge.addresses import e164_of, phone_part, sip_address
from bridge.agent.tools import _same_phone
from bridge.demo.local import LocalBridge
from bridge.dialplan.loader import DialplanError, load_dialplans
from bridge.logmask import mask
from bridge.sim.handshake import new_call_sid
from bridge.twilio.signature import sign_request

SHIPPED = Path(__file__).resolve().parents[2] / "dialplans"


def write_plans(folder: Path) -> Path:
    (folder / "pbx.yaml").write_text(
        textwrap.dedent(
            """
            name: pbx
            numbers: ["sip:support@pbx.example.com", "1001"]
            """
        ).lstrip()
    )
    (folder / "domain.yaml").write_text(
        'name: domain\nnumbers: ["sip:acme.sip.twilio.com"]\ndefault: true\n'
    )
    return folder


@pytest.mark.parametrize(
    ("text", "user", "host"),
    [
        ("sip:+15555550200@cedar.sip.twilio.com", "+15555550200", "cedar.sip.twilio.com"),
        ("sip:alice@PBX.example.com:5060;transport=tls", "alice", "pbx.example.com"),
        ('"Alice" <sips:alice@10.0.0.5>;tag=9', "alice", "10.0.0.5"),
        ("sip:cedar.sip.twilio.com", "", "cedar.sip.twilio.com"),
    ],
)
def test_sip_uris_give_their_user_part_and_host(text: str, user: str, host: str) -> None:
    address = sip_address(text)
    assert address is not None and (address.user, address.host) == (user, host)


def test_a_sip_callers_user_part_is_their_number() -> None:
    assert phone_part("sip:+15035550142@10.0.0.5;user=phone") == "+15035550142"
    assert e164_of("sip:+15035550142@10.0.0.5") == "+15035550142"
    assert e164_of("sip:alice@pbx.example.com") is None
    assert _same_phone("+1 503 555 0142", "sip:+15035550142@trunk.pstn.twilio.com")
    assert not _same_phone("+1 503 555 0142", "sip:0142@10.5.0.35")


def test_sip_user_parts_are_masked_in_logs_and_hosts_kept() -> None:
    line = mask("call from sip:alice.smith@pbx.example.com to sip:+15035550142@x.sip.twilio.com")
    assert "alice" not in line and "5035550142" not in line
    assert "pbx.example.com" in line and "x.sip.twilio.com" in line


def test_sip_to_routes_by_uri_then_user_part_then_domain(tmp_path: Path) -> None:
    plans = load_dialplans(write_plans(tmp_path))
    assert plans.for_number("sip:support@PBX.example.com:5060").name == "pbx"
    assert plans.for_number("sip:1001@10.1.2.3;transport=udp").name == "pbx"
    assert plans.for_number("sip:anyone@acme.sip.twilio.com").name == "domain"
    assert plans.for_number("sip:support@elsewhere.example.com").name == "domain"  # default


def test_shipped_cedar_answers_its_sip_domain_and_its_number_as_a_user_part() -> None:
    plans = load_dialplans(SHIPPED)
    assert plans.for_number("sip:frontdesk@cedar.sip.twilio.com").name == "cedar"
    assert plans.for_number("sip:+15555550200@trunk.example.com").name == "cedar"
    assert plans.for_number("sip:+15555550100@acme.sip.twilio.com").name == "acme"


@pytest.mark.parametrize("entry", ["sip:", "sip:a@", "alice@example.com", "+1 555 0100"])
def test_a_malformed_sip_entry_is_a_dialplan_problem(tmp_path: Path, entry: str) -> None:
    (tmp_path / "bad.yaml").write_text(f'name: bad\nnumbers: ["{entry}"]\n')
    with pytest.raises(DialplanError) as caught:
        load_dialplans(tmp_path)
    assert "numbers" in str(caught.value)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.models
async def test_a_signed_sip_domain_call_lands_on_its_own_dialplan(
    bridge: LocalBridge, http: aiohttp.ClientSession
) -> None:
    url = f"{bridge.twilio.bridge_url}/twilio/voice"
    form = {
        "CallSid": new_call_sid(),
        "From": "sip:alice@10.0.0.5",
        "To": "sip:frontdesk@cedar.sip.twilio.com",
        "SipDomain": "cedar.sip.twilio.com",
        "SipCallId": "abc@10.0.0.5",
        "SipHeader_X-Account": "42",
    }
    headers = {"X-Twilio-Signature": sign_request(bridge.twilio.auth_token, url, form)}
    async with http.post(url, data=form, headers=headers) as response:
        assert response.status == 200
        assert "<Connect><Stream" in await response.text()
    record = await bridge.services.store.get(form["CallSid"])
    assert record is not None
    assert record.dialplan == "cedar"
    assert (record.from_number, record.to_number) == (form["From"], form["To"])
