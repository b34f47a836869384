"""Test calls placed from the console: the simulator calls this very server, in the background.

Where the bridge's REST requests go decides whether that is safe. A test call has a made-up
CallSid; when a transfer or hang-up for it reached the real Twilio, it would fail there (or,
worse, touch a real account). So test calls run only when TWILIO_API_BASE_URL points at a
local fake (a loopback address, e.g. `bridge call --twilio-port` or the fake that
`local_bridge` starts), and are refused with the reason otherwise.

The simulated caller ends its stream when the bridge transfers or hangs up, as Twilio does;
it learns that from the call record, where every successful REST request is kept.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from bridge.call.tasks import CallTasks
from bridge.config import Settings
from bridge.sim.caller import SimulatedCaller
from bridge.sim.script import PlayAudio, PressKeys, Say, Step
from bridge.speech.base import TextToSpeech
from bridge.store.base import CallStore

log = logging.getLogger(__name__)

MAX_RUNNING = 2  # test calls share the speech workers with real calls
KEEP_STATES = 50
MAX_LINES = 20
MAX_LINE_CHARS = 300
KEYS_PREFIX = "keys:"
WATCH_S = 0.25
SPEEDS = (1.0, 2.0, 3.0)


class CallRefused(Exception):
    """The test call cannot run; the message says why, for the person who asked."""


@dataclass
class SimCallState:
    call_sid: str
    status: Literal["running", "finished", "failed"] = "running"
    detail: str = ""


def refusal(settings: Settings) -> str | None:
    """Why this server may not place test calls, or None when it may."""
    api = settings.twilio_api_base_url
    if not api or not _loopback(urlsplit(api).hostname or ""):
        return (
            "Test calls are off: this server's Twilio REST requests go to the real Twilio, "
            "which would receive transfers and hang-ups for calls it never made. Set "
            "TWILIO_API_BASE_URL to a local fake Twilio API (a loopback address) to use them."
        )
    if not settings.public_base_url:
        return "Test calls are off: PUBLIC_BASE_URL is not set, so the caller cannot reach us."
    if not settings.twilio_skip_signature and not settings.twilio_auth_token.get_secret_value():
        return "Test calls are off: TWILIO_AUTH_TOKEN is not set, so they cannot be signed."
    return None


def parse_script(text: str) -> list[Step]:
    """One caller line per text line; `keys: 123#` presses keys instead of speaking."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_LINES:
        raise CallRefused(f"at most {MAX_LINES} caller lines")
    steps: list[Step] = []
    for line in lines:
        if len(line) > MAX_LINE_CHARS:
            raise CallRefused(f"a caller line may be at most {MAX_LINE_CHARS} characters")
        if line.lower().startswith(KEYS_PREFIX):
            digits = line[len(KEYS_PREFIX) :].replace(" ", "")
            if not digits or any(d not in "0123456789*#" for d in digits):
                raise CallRefused(f"keys may be 0-9, * and # only: {line!r}")
            steps.append(PressKeys(digits))
        else:
            steps.append(Say(line))
    return steps


class SimCallRunner:
    """Owns the test calls in flight: at most MAX_RUNNING, all cancelled on close."""

    def __init__(
        self, settings: Settings, store: CallStore, tts: TextToSpeech, recordings_dir: Path
    ) -> None:
        self._settings = settings
        self._store = store
        self._tts = tts
        self._recordings_dir = recordings_dir
        self._tasks = CallTasks("console")
        self._states: OrderedDict[str, SimCallState] = OrderedDict()

    def state(self, call_sid: str) -> SimCallState | None:
        return self._states.get(call_sid)

    def start(
        self,
        steps: list[Step],
        caller: str,
        called: str,
        speed: float,
        upload: Path | None = None,
    ) -> str:
        """Start a call in the background and return its CallSid at once."""
        reason = refusal(self._settings)
        if reason is not None:
            raise CallRefused(reason)
        if not steps:
            raise CallRefused("give the caller at least one line or a WAV file")
        if len(self._tasks) >= MAX_RUNNING:
            raise CallRefused(f"{MAX_RUNNING} test calls are running already; wait a moment")
        if speed not in SPEEDS:
            raise CallRefused(f"speed must be one of {SPEEDS}")
        ended = asyncio.Event()
        sim = SimulatedCaller(
            self._settings.public_base_url,
            self._settings.twilio_auth_token.get_secret_value(),
            self._settings.twilio_account_sid,
            self._tts,
            caller=caller,
            called=called,
            speed=speed,
            admin_token=self._settings.admin_token.get_secret_value(),
            call_ended_by_bridge=ended,
            recordings_dir=self._recordings_dir,
        )
        state = SimCallState(sim.call_sid)
        self._remember(state)
        self._tasks.own(self._run(sim, steps, ended, state, upload), f"test-call-{sim.call_sid}")
        return sim.call_sid

    async def close(self) -> None:
        await self._tasks.cancel_all()

    async def _run(
        self,
        sim: SimulatedCaller,
        steps: list[Step],
        ended: asyncio.Event,
        state: SimCallState,
        upload: Path | None,
    ) -> None:
        watcher = asyncio.create_task(self._watch_rest(sim.call_sid, ended))
        try:
            report = await sim.run(steps)
            state.status = "finished"
            state.detail = report.status or "finished"
        except asyncio.CancelledError:
            state.status, state.detail = "failed", "cancelled: the server is stopping"
            raise
        except Exception as exc:
            log.exception("test call %s failed", sim.call_sid)
            state.status, state.detail = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            if upload is not None:
                await asyncio.to_thread(upload.unlink, missing_ok=True)

    async def _watch_rest(self, call_sid: str, ended: asyncio.Event) -> None:
        """Like Twilio: an accepted update of the call (transfer, hang-up) ends its stream."""
        while True:
            await asyncio.sleep(WATCH_S)
            record = await self._store.get(call_sid)
            if record is not None and any(action.ok for action in record.twilio_actions):
                ended.set()
                return

    def _remember(self, state: SimCallState) -> None:
        self._states[state.call_sid] = state
        while len(self._states) > KEEP_STATES:
            self._states.popitem(last=False)


def upload_steps(upload: Path | None) -> list[Step]:
    return [PlayAudio(upload)] if upload is not None else []


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
