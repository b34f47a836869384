"""The person (or machine) a bridge calls: what Twilio does after `calls.create`.

Ringing, then the signed voice webhook to the call's `Url` and its media stream (the same
protocol as an inbound call), the asynchronous answering-machine verdict at the moment a
real account sends it (a person's first words; a machine's beep), and the status callbacks
through to the final one. A number that does not answer, is busy or fails gets only its
status callbacks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from bridge.records import utcnow
from bridge.sim.caller import SimulatedCaller
from bridge.sim.handshake import InboundCall, Target
from bridge.sim.report import CallReport
from bridge.sim.script import Quiet, Say, Step, Voicemail
from bridge.speech.base import TextToSpeech
from bridge.twilio.signature import sign_request

log = logging.getLogger(__name__)

CalleeKind = Literal["person", "voicemail", "no_answer", "busy", "failed"]

DEFAULT_LINES: tuple[Step, ...] = (Say("Hello?"),)
VOICEMAIL_WAIT_MS = 120_000  # a machine records this long after its beep, unless hung up
# A real account's AMD: a person is known about this long after answering; a machine, this
# long after its beep.
PERSON_DETECTED_MS = 1500
BEEP_DETECTED_MS = 200
CREATE_ANSWERED_S = 0.1


@dataclass(frozen=True)
class Callee:
    kind: CalleeKind = "person"
    lines: tuple[Step, ...] = DEFAULT_LINES  # what a person says, in turn
    greeting: str = "Hi, you've reached Sam. Please leave a message after the tone."
    ring_ms: int = 1500  # before answering, or before giving up (no answer)


@dataclass
class PlacedCall:
    """One `calls.create` as the fake API saw it, and what the callee did."""

    call_sid: str
    params: dict[str, str]
    status: str = "queued"
    answered_by: str = ""
    beep_ended_at: datetime | None = None
    report: CallReport | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def to(self) -> str:
        return self.params.get("To", "")


class CalleePlayer:
    """Plays each placed call's callee; `callees` by number, `default` for any other."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        tts: TextToSpeech,
        *,
        speed: float = 1.0,
        default: Callee | None = None,
        admin_token: str = "",
        on_print: Callable[[str], None] | None = None,
    ) -> None:
        self._admin_token = admin_token
        self._print = on_print  # each call's lines as they happen (`bridge call --answer`)
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._tts = tts
        self._speed = speed
        self.callees: dict[str, Callee] = {}
        self.default = default or Callee()

    async def play(
        self,
        placed: PlacedCall,
        ended_by_bridge: asyncio.Event,
        on_status: Callable[[PlacedCall], None],
    ) -> None:
        callee = self.callees.get(placed.to, self.default)
        async with aiohttp.ClientSession() as http:
            try:
                await self._play(http, placed, callee, ended_by_bridge, on_status)
            finally:
                placed.done.set()

    async def _play(
        self,
        http: aiohttp.ClientSession,
        placed: PlacedCall,
        callee: Callee,
        ended_by_bridge: asyncio.Event,
        on_status: Callable[[PlacedCall], None],
    ) -> None:
        async def status(value: str) -> None:
            placed.status = value
            on_status(placed)
            await self._status(http, placed)

        # Twilio answers `calls.create` before its first callback.
        await asyncio.sleep(CREATE_ANSWERED_S)
        await status("initiated")
        if callee.kind == "failed":
            await status("failed")
            return
        await status("ringing")
        await self._sleep(callee.ring_ms if callee.kind != "busy" else 300)
        if callee.kind in ("no_answer", "busy"):
            await status("no-answer" if callee.kind == "no_answer" else "busy")
            return
        await status("in-progress")
        try:
            placed.report = await self._connect(http, placed, callee, ended_by_bridge)
        except (aiohttp.ClientError, ConnectionError) as exc:
            # A bridge that is down or dies mid-call: Twilio ends the call (an application
            # error), as we do here.
            log.warning("call %s lost its bridge (%s): hung up", placed.call_sid, exc)
        finally:
            await status("completed")

    async def _connect(
        self,
        http: aiohttp.ClientSession,
        placed: PlacedCall,
        callee: Callee,
        ended_by_bridge: asyncio.Event,
    ) -> CallReport:
        url = placed.params["Url"]
        parts = urlsplit(url)
        base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        call = InboundCall(
            Target(base, self._account_sid, self._auth_token, placed.to),
            caller=placed.params.get("From", ""),
            call_sid=placed.call_sid,
            voice_url=url,
            direction="outbound-api",
        )
        verdicts: set[asyncio.Task[None]] = set()

        def verdict(answered_by: str, after_ms: int) -> None:
            task = asyncio.create_task(self._verdict(http, placed, answered_by, after_ms))
            verdicts.add(task)

        def step_done(step: Step) -> None:
            if isinstance(step, Voicemail):
                placed.beep_ended_at = utcnow()
                verdict("machine_end_beep", BEEP_DETECTED_MS)

        if callee.kind == "voicemail":
            script: list[Step] = [Voicemail(callee.greeting), Quiet(VOICEMAIL_WAIT_MS)]
        else:
            script = list(callee.lines)
            verdict("human", PERSON_DETECTED_MS)
        sim = SimulatedCaller(
            base,
            self._auth_token,
            self._account_sid,
            self._tts,
            speed=self._speed,
            admin_token=self._admin_token,
            call_ended_by_bridge=ended_by_bridge,
            call=call,
            on_step_done=step_done,
            on_print=self._print,
        )
        try:
            return await sim.run(script)
        finally:
            for task in verdicts:
                task.cancel()
            await asyncio.gather(*verdicts, return_exceptions=True)

    async def _verdict(
        self, http: aiohttp.ClientSession, placed: PlacedCall, answered_by: str, after_ms: int
    ) -> None:
        await self._sleep(after_ms)
        placed.answered_by = answered_by
        url = placed.params.get("AsyncAmdStatusCallback", "")
        if url and placed.params.get("AsyncAmd") == "true":
            await self._post(
                http,
                url,
                {
                    "CallSid": placed.call_sid,
                    "AccountSid": self._account_sid,
                    "AnsweredBy": answered_by,
                    "MachineDetectionDuration": str(after_ms),
                },
            )

    async def _status(self, http: aiohttp.ClientSession, placed: PlacedCall) -> None:
        url = placed.params.get("StatusCallback", "")
        if not url:
            return
        fields = {
            "CallSid": placed.call_sid,
            "AccountSid": self._account_sid,
            "CallStatus": placed.status,
            "From": placed.params.get("From", ""),
            "To": placed.to,
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }
        await self._post(http, url, fields)

    async def _post(self, http: aiohttp.ClientSession, url: str, fields: dict[str, str]) -> None:
        """A signed webhook; a bridge that is down or refuses it is logged, as Twilio does."""
        headers = {"X-Twilio-Signature": sign_request(self._auth_token, url, fields)}
        try:
            async with http.post(url, data=fields, headers=headers) as response:
                if response.status >= 400:
                    log.warning("callback %s answered %d", url, response.status)
        except aiohttp.ClientError as exc:
            log.warning("callback %s failed: %s", url, exc)

    async def _sleep(self, ms: int) -> None:
        await asyncio.sleep(ms / 1000 / self._speed)
