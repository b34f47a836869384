"""`bridge call --answer KIND`: the bridge places the call and this process answers it, as a
person saying the given lines, a voicemail, or a number that does not answer, is busy or fails.

The bridge's `calls.create` goes to a fake Twilio API here, whose callee plays the call over
Twilio's protocol: the bridge in this process, or a running one (`--url`) whose
TWILIO_API_BASE_URL is this fake (`--twilio-port`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from bridge.config import Settings
from bridge.demo.local import local_bridge
from bridge.records import CallRecord
from bridge.sim.callee import Callee, CalleeKind, CalleePlayer
from bridge.sim.calls import fresh_credentials
from bridge.sim.fake_twilio_api import FakeTwilioApi
from bridge.sim.report import CallReport
from bridge.sim.script import Step
from bridge.speech.base import TextToSpeech
from bridge.speech.factory import load_speech
from bridge.twilio.outbound import OutboundError

OUTCOME_WAIT_S = 5.0  # the final status callback lands after the callee hangs up


@dataclass(frozen=True)
class Answer:
    kind: CalleeKind
    dialplan: str
    variables: dict[str, str]
    number: str  # the callee's, which the bridge dials
    steps: tuple[Step, ...]
    speed: float = 1.0


def parse_variables(items: list[str]) -> dict[str, str]:
    """`--var KEY=VALUE` options as a dict; ValueError naming the first malformed one."""
    variables: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--var {item!r}: expected KEY=VALUE")
        variables[key] = value
    return variables


async def answer_call(
    settings: Settings,
    answer: Answer,
    *,
    url: str | None = None,
    twilio_port: int = 0,
    on_print: Callable[[str], None] | None = None,
) -> CallReport:
    """Have the bridge call `answer.number` and answer as told; OutboundError if refused."""
    if url is None:
        async with local_bridge(settings) as bridge:
            twilio = bridge.twilio
            _answer_with(
                twilio.api, twilio.account_sid, twilio.auth_token, twilio.admin_token,
                bridge.services.speech.caller_tts, answer, on_print,
            )  # fmt: skip
            record = await bridge.services.dial(answer.dialplan, answer.number, answer.variables)
            return await _answered(
                twilio.api, record.call_sid, twilio.bridge_url, twilio.admin_token
            )
    speech = load_speech(settings)
    account_sid = settings.twilio_account_sid or fresh_credentials()[0]
    auth_token = settings.twilio_auth_token.get_secret_value() or secrets.token_hex(16)
    admin_token = settings.admin_token.get_secret_value()
    api = FakeTwilioApi(account_sid, auth_token)
    await api.start(port=twilio_port)
    try:
        _answer_with(api, account_sid, auth_token, admin_token, speech.caller_tts, answer, on_print)
        call_sid = await _placed_by(url, admin_token, answer)
        return await _answered(api, call_sid, url, admin_token)
    finally:
        await api.close()
        speech.close()


def _answer_with(
    api: FakeTwilioApi,
    account_sid: str,
    auth_token: str,
    admin_token: str,
    voice: TextToSpeech,
    answer: Answer,
    on_print: Callable[[str], None] | None,
) -> None:
    player = CalleePlayer(
        account_sid, auth_token, voice, speed=answer.speed, admin_token=admin_token,
        on_print=on_print,
    )  # fmt: skip
    player.callees[answer.number] = Callee(kind=answer.kind, lines=answer.steps)
    api.player = player


async def _placed_by(url: str, admin_token: str, answer: Answer) -> str:
    """POST /api/calls to a running bridge: the CallSid of the call it placed."""
    body = {"to": answer.number, "dialplan": answer.dialplan, "variables": answer.variables}
    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{url}/api/calls", json=body) as response:
            if response.status != 201:
                raise OutboundError(f"call not placed ({response.status}): {await response.text()}")
            return str((await response.json())["call_sid"])


async def _answered(api: FakeTwilioApi, call_sid: str, url: str, admin_token: str) -> CallReport:
    """The callee's report once the call is over, with the outcome the bridge recorded."""
    placed = api.placed[call_sid]
    await placed.done.wait()
    report = placed.report or CallReport(call_sid=call_sid, status=placed.status)
    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    async with aiohttp.ClientSession(headers=headers) as http:
        for _ in range(int(OUTCOME_WAIT_S / 0.1)):
            async with http.get(f"{url}/api/calls/{call_sid}") as response:
                if response.status == 200:
                    record = CallRecord.model_validate_json(await response.text())
                    if record.outcome and record.status != "active":
                        report.outcome = record.outcome
                        break
            await asyncio.sleep(0.1)
    return report
