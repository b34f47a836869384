"""The people a warm transfer rings, and the conferences callers wait in, as Twilio plays
them for the fake REST API.

A placed call whose `To` has a `HumanKind` is played here: it rings, then (unless not
answered, busy or failed) Twilio's answering-machine detection gives its verdict in the
answer webhook (`AnsweredBy`, synchronous AMD), and the TwiML that comes back is walked as
Twilio would: every `<Say>` is what the human heard; a `<Gather>` gets the kind's key (or
none, posted anyway with `actionOnEmptyResult`); a `<Dial><Conference>` joins the room.
Then the human hangs up and the leg's final status goes to its `StatusCallback`. A caller
the bridge moves by a REST update into a `<Dial><Conference>` waits in that room.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import aiohttp

from bridge.twilio.signature import sign_request

log = logging.getLogger(__name__)

HumanKind = Literal[
    "accept", "decline", "silent", "hang_up", "machine", "no_answer", "busy", "failed"
]
KEYS: dict[str, str] = {"accept": "1", "decline": "2", "silent": ""}
CREATE_ANSWERED_S = 0.05


@dataclass
class HumanLeg:
    """One call to a human, as the fake saw it."""

    call_sid: str
    params: dict[str, str]
    kind: HumanKind
    heard: list[str] = field(default_factory=list)  # each <Say>, in order
    joined: str = ""  # the conference room joined
    heard_before_joining: int = 0  # how many <Say>s were heard when the room was joined
    status: str = "queued"
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Conferences:
    """Who is in which room; a room starts when someone who starts it enters. A member who
    entered with a `statusCallback` for `leave` has its leaving posted there (`notify`)."""

    def __init__(self, notify: Callable[[str, dict[str, str]], None]) -> None:
        self.rooms: dict[str, set[str]] = defaultdict(set)
        self.started: set[str] = set()
        self.log: list[tuple[str, str, str]] = []  # (room, call sid, "hold"|"join"|"leave")
        self._notify = notify
        self._callbacks: dict[str, str] = {}  # call sid -> its participant-leave URL

    def follow(self, call_sid: str, twiml: str) -> None:
        """A call's new TwiML (a REST update): into the room its `<Dial><Conference>` names,
        or out of any."""
        self.leave(call_sid, "participant_updated_via_api")
        conference = conference_of(twiml)
        if conference is None or not conference.text:
            return
        starts = conference.get("startConferenceOnEnter", "true") == "true"
        self.enter(conference.text, call_sid, starts=starts)
        events = (conference.get("statusCallbackEvent") or "").split()
        if conference.get("statusCallback") and "leave" in events:
            self._callbacks[call_sid] = conference.get("statusCallback", "")

    def enter(self, room: str, call_sid: str, *, starts: bool) -> None:
        self.rooms[room].add(call_sid)
        if starts:
            self.started.add(room)
        self.log.append((room, call_sid, "join" if starts else "hold"))

    def leave(self, call_sid: str, reason: str = "participant_hung_up") -> None:
        for room, members in self.rooms.items():
            if call_sid in members:
                members.discard(call_sid)
                self.log.append((room, call_sid, "leave"))
                url = self._callbacks.pop(call_sid, "")
                if url:
                    fields = {
                        "StatusCallbackEvent": "participant-leave",
                        "CallSid": call_sid,
                        "FriendlyName": room,
                        "ReasonParticipantLeft": reason,
                    }
                    self._notify(url, fields)

    def room_of(self, call_sid: str) -> str | None:
        return next((room for room, calls in self.rooms.items() if call_sid in calls), None)


def conference_of(twiml: str) -> ET.Element | None:
    """A TwiML's `<Dial><Conference>`, if it has one."""
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        return None
    return root.find("Dial/Conference")


class HumanPlayer:
    """Plays each placed call to a number in `kinds`."""

    def __init__(self, account_sid: str, auth_token: str, conferences: Conferences) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._conferences = conferences
        self.kinds: dict[str, HumanKind] = {}
        self.legs: dict[str, HumanLeg] = {}
        self.ring_s = 0.2
        self.talk_s = 0.2
        self._placed = asyncio.Condition()

    def takes(self, to: str) -> bool:
        return to in self.kinds

    async def leg_to(self, to: str) -> HumanLeg:
        """The first leg placed to `to` (now or once it is)."""
        async with self._placed:
            await self._placed.wait_for(
                lambda: any(leg.params["To"] == to for leg in self.legs.values())
            )
        return next(leg for leg in self.legs.values() if leg.params["To"] == to)

    async def play(self, call_sid: str, params: dict[str, str]) -> None:
        leg = HumanLeg(call_sid, params, self.kinds[params["To"]])
        self.legs[call_sid] = leg
        async with self._placed:
            self._placed.notify_all()
        try:
            async with aiohttp.ClientSession() as http:
                await self._play(http, leg)
        finally:
            self._conferences.leave(call_sid)
            leg.done.set()

    async def _play(self, http: aiohttp.ClientSession, leg: HumanLeg) -> None:
        await asyncio.sleep(CREATE_ANSWERED_S)
        if leg.kind == "failed":
            return await self._ended(http, leg, "failed")
        await asyncio.sleep(self.ring_s)
        if leg.kind in ("no_answer", "busy"):
            return await self._ended(http, leg, "no-answer" if leg.kind == "no_answer" else "busy")
        answered_by = "machine_start" if leg.kind == "machine" else "human"
        fields = {**self._fields(leg, "in-progress"), "AnsweredBy": answered_by}
        twiml = await self._post(http, leg.params["Url"], fields)
        talked = await self._follow(http, leg, twiml)
        await self._ended(http, leg, "completed", talked)

    async def _follow(self, http: aiohttp.ClientSession, leg: HumanLeg, twiml: str) -> int:
        """Walk the TwiML as Twilio does; the seconds talked in a conference."""
        try:
            root = ET.fromstring(twiml)
        except ET.ParseError:
            return 0
        for verb in root:
            if verb.tag == "Say":
                leg.heard.append(verb.text or "")
            elif verb.tag == "Gather":
                leg.heard.extend(say.text or "" for say in verb.iter("Say"))
                if leg.kind == "hang_up":
                    return 0
                digits = KEYS.get(leg.kind, "")
                if digits or verb.get("actionOnEmptyResult") == "true":
                    fields = {**self._fields(leg, "in-progress"), "Digits": digits}
                    answer = await self._post(http, verb.get("action", ""), fields)
                    return await self._follow(http, leg, answer)
            elif verb.tag == "Dial" and (room := conference_of(twiml)) is not None:
                leg.joined, leg.heard_before_joining = room.text or "", len(leg.heard)
                starts = room.get("startConferenceOnEnter", "true") == "true"
                self._conferences.enter(leg.joined, leg.call_sid, starts=starts)
                await asyncio.sleep(self.talk_s)
                return max(1, round(self.talk_s))
            elif verb.tag == "Hangup":
                return 0
        return 0

    async def _ended(
        self, http: aiohttp.ClientSession, leg: HumanLeg, status: str, talked_s: int = 0
    ) -> None:
        leg.status = status
        url = leg.params.get("StatusCallback", "")
        if url:  # with no StatusCallbackEvent, Twilio posts the final status only
            fields = {**self._fields(leg, status), "CallDuration": str(talked_s)}
            await self._post(http, url, fields)

    def _fields(self, leg: HumanLeg, status: str) -> dict[str, str]:
        return {
            "CallSid": leg.call_sid,
            "AccountSid": self._account_sid,
            "From": leg.params.get("From", ""),
            "To": leg.params["To"],
            "CallStatus": status,
            "Direction": "outbound-api",
        }

    async def _post(self, http: aiohttp.ClientSession, url: str, fields: dict[str, str]) -> str:
        """A signed webhook; its TwiML ("" when refused)."""
        headers = {"X-Twilio-Signature": sign_request(self._auth_token, url, fields)}
        try:
            async with http.post(url, data=fields, headers=headers) as response:
                text = await response.text()
                if response.status >= 400:
                    log.warning("human leg webhook %s answered %d", url, response.status)
                    return ""
                return text
        except aiohttp.ClientError as exc:
            log.warning("human leg webhook %s failed: %s", url, exc)
            return ""
