"""Transfers that never drop a caller: every `<Dial>` has a timeout and an action, and a
department that does not answer gives the caller back to the agent on a new media stream,
over HTTP against the real app, with the fake Twilio API playing the dialled leg's outcome."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path

import aiohttp

from bridge.demo.local import local_bridge
from bridge.sim.handshake import stream_of
from bridge.store.report import transcript
from bridge.twilio.signature import sign_request
from tests.observability.conftest import instant_settings
from tests.support.media_stream import WAIT_S, record_when, stream
from tests.support.twilio_side import answer_call


async def test_an_unanswered_department_gives_the_caller_back_to_the_agent(
    tmp_path: Path,
) -> None:
    async with local_bridge(instant_settings(tmp_path)) as bridge, aiohttp.ClientSession() as http:
        api = bridge.twilio.api
        api.play_dials("no-answer")
        answered = await answer_call(bridge.twilio, http)
        call_sid = answered.call_sid
        async with stream(bridge, http, call_sid, answered.stream_url, answered.parameters) as key:
            await key("0")  # acme: key 0 transfers to support
            update = await asyncio.wait_for(api.wait_for_update(call_sid), WAIT_S)

        dial = ET.fromstring(update["Twiml"]).find("Dial")
        assert dial is not None and dial.get("timeout") == "20"
        action = f"{bridge.twilio.bridge_url}/twilio/dial-action?department=support"
        assert dial.get("action") == action
        sip = dial.find("Sip")
        assert sip is not None and sip.text is not None
        assert sip.text.startswith("sip:support@acme-outfitters.sip.twilio.com?X-CallSid=")
        assert call_sid in sip.text and "X-Reason=caller+asked+for+support" in sip.text

        back = stream_of(await asyncio.wait_for(api.dial_answer(call_sid), WAIT_S))
        assert back is not None and back.parameters["token"] != answered.parameters["token"]
        api.play_dials("completed")  # the next department answers
        async with stream(bridge, http, call_sid, back.url, back.parameters) as key:
            offer = await record_when(
                bridge, call_sid, lambda r: any("didn't answer" in t.agent for t in r.turns)
            )
            assert offer.status == "active"
            await key("1")  # the caller takes another department: sales
            await record_when(bridge, call_sid, lambda r: len(r.legs) == 3)

        record = await record_when(bridge, call_sid, lambda r: r.status != "active")
    said = [turn.agent for turn in record.turns]
    assert said[0].startswith("Thanks for calling Acme")  # the first stream's turns are kept
    assert any(s.startswith("Sorry, support didn't answer. I can try another dep") for s in said)
    assert [(leg.kind, leg.department, leg.status) for leg in record.legs] == [
        ("dial", "support", "no-answer"),
        ("agent", "", "returned"),
        ("dial", "sales", "completed"),
    ]
    assert record.status == "transferred"
    transfers = [a.params["Twiml"] for a in record.twilio_actions if "Twiml" in a.params]
    assert len(transfers) == 2 and "<Number>+15555550110</Number>" in transfers[1]
    shown = transcript(record)
    assert "dialled support: no-answer" in shown and "dialled sales: completed" in shown


async def test_a_dial_action_for_a_call_not_transferred_is_refused(tmp_path: Path) -> None:
    async with local_bridge(instant_settings(tmp_path)) as bridge, aiohttp.ClientSession() as http:
        answered = await answer_call(bridge.twilio, http)
        url = f"{bridge.twilio.bridge_url}/twilio/dial-action?department=sales"
        form = {"CallSid": answered.call_sid, "DialCallStatus": "no-answer"}
        headers = {"X-Twilio-Signature": sign_request(bridge.twilio.auth_token, url, form)}
        async with http.post(url, data=form, headers=headers) as response:
            assert response.status == 409
        async with http.post(url, data=form, headers={"X-Twilio-Signature": "bad"}) as response:
            assert response.status == 403
