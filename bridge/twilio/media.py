"""The Media Streams WebSocket: Twilio's JSON frames in, a call's audio events out.

This module speaks Twilio's protocol and nothing else. It checks the upgrade's signature and
the per-call token on `start`, decodes frames, and hands audio, keys and marks to the call
that `start_call` returns. Teardown happens once, on `stop` or on close, whichever is first.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import WSCloseCode, WSMsgType, web

from bridge.config import Settings
from bridge.observability.logs import bind_call
from bridge.twilio.admission import RETRY_AFTER_S, MediaAdmission, Waiter, source_of
from bridge.twilio.limits import StreamGuard, StreamLimits
from bridge.twilio.messages import (
    DtmfMessage,
    InboundMessage,
    MalformedFrame,
    MarkMessage,
    MediaMessage,
    StartInfo,
    StartMessage,
    StopMessage,
    UnknownEvent,
    clear_message,
    mark_message,
    media_message,
    parse_inbound,
)
from bridge.twilio.signature import verify_websocket
from bridge.twilio.tokens import CallIdentity, CallTokens, TokenError

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024
REFUSALS_PER_LOG_LINE = 100  # a flood of refused sockets logs one line per this many
TOKEN_PARAMETER = "token"


class MediaCall(Protocol):
    """What a live call needs from the stream."""

    async def on_audio(self, ulaw: bytes, timestamp_ms: float) -> None: ...

    async def on_dtmf(self, digit: str) -> None: ...

    def on_mark(self, name: str) -> None: ...

    async def close(self, reason: str) -> None: ...


StartCall = Callable[[StartInfo, CallIdentity, "TwilioAudioSink"], Awaitable[MediaCall]]


class StreamEnded(Exception):
    """The stream is over (`stop`, or a `start` we refused)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FrameWatch(Protocol):
    """Told each inbound media frame's stream time, on arrival (to measure lag)."""

    def frame(self, timestamp_ms: float) -> None: ...


class TwilioAudioSink:
    """Sends a call's audio, marks and clears as Twilio's outbound frames."""

    def __init__(self, ws: web.WebSocketResponse, stream_sid: str) -> None:
        self._ws = ws
        self._stream_sid = stream_sid

    async def send_audio(self, ulaw: bytes) -> None:
        await self._send(media_message(self._stream_sid, base64.b64encode(ulaw).decode("ascii")))

    async def send_mark(self, name: str) -> None:
        await self._send(mark_message(self._stream_sid, name))

    async def clear(self) -> None:
        await self._send(clear_message(self._stream_sid))

    async def _send(self, frame: str) -> None:
        # After the socket closed the call is being torn down; what is left to say is moot.
        if not self._ws.closed:
            await self._ws.send_str(frame)


class MediaStreamHandler:
    """aiohttp handler for `GET /twilio/media`."""

    def __init__(
        self,
        settings: Settings,
        tokens: CallTokens,
        start_call: StartCall,
        watch_stream: Callable[[], FrameWatch] | None = None,
        limits: StreamLimits | None = None,
    ) -> None:
        self._limits = limits or StreamLimits()
        self._settings = settings
        self._tokens = tokens
        self._start_call = start_call
        self._watch_stream = watch_stream
        self._admission = MediaAdmission(self._limits)
        # A flood is logged a line per REFUSALS_PER_LOG_LINE sockets, not one per socket.
        self._refusals = Tally()
        self._closures = Tally()

    @property
    def admission(self) -> MediaAdmission:
        return self._admission

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # Cheapest first: the source's handshake budget, before the signature or the upgrade.
        source = source_of(request.remote)
        if not self._admission.take_handshake(source):
            self._refusals.count("media sockets refused: over their source's handshake budget")
            refused = web.HTTPTooManyRequests(
                text="too many media sockets from this address",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
            # Its next try must come on a new connection, which the accept gate turns away.
            refused.force_close()
            raise refused
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES)
        async with self._admission.handshake():
            if not verify_websocket(self._settings, request):
                log.warning("media socket refused: bad or missing X-Twilio-Signature")
                raise web.HTTPForbidden(text="invalid Twilio signature")
            await ws.prepare(request)
        counters = StreamGuard(self._limits)
        watch = self._watch_stream() if self._watch_stream is not None else None
        call: MediaCall | None = None
        waiter: Waiter | None = None
        waiting = True
        reason = "socket closed"
        try:
            async with asyncio.timeout(self._limits.start_timeout_s) as start_deadline:
                loop = asyncio.get_running_loop()
                waiter = self._admission.wait_for_start(
                    source, lambda: start_deadline.reschedule(loop.time())
                )
                async for frame in ws:
                    if closing := counters.closing_reason:
                        log.warning("media socket closed: %s", closing)
                        reason = closing
                        break
                    if not counters.admit():
                        if counters.over_rate == 1:
                            log.warning("media frames over the rate limit are dropped")
                        continue
                    if frame.type is not WSMsgType.TEXT:
                        if frame.type is WSMsgType.BINARY:
                            counters.binary += 1
                            log.error("binary frame ignored: Twilio sends JSON text frames only")
                            continue
                        break
                    try:
                        message = parse_inbound(frame.data)
                    except UnknownEvent as exc:
                        counters.unknown_events += 1
                        log.info("ignored frame: %s", exc.reason)
                        continue
                    except MalformedFrame as exc:
                        counters.malformed += 1
                        log.error("malformed frame ignored: %s", exc.reason)
                        if closing := counters.closing_reason:
                            log.warning("media socket closed: %s", closing)
                            reason = closing
                            break
                        continue
                    if waiting and isinstance(message, StartMessage):
                        # The start arrived: no deadline from here, and a place is free.
                        start_deadline.reschedule(None)
                        self._admission.done_waiting(waiter)
                        waiting = False
                    try:
                        started = call is None
                        call = await self._dispatch(message, call, ws, watch, counters)
                        if started and call is not None:
                            self._admission.give_back_handshake(source)
                    except StreamEnded as ended:
                        reason = ended.reason
                        break
                    except Exception:
                        # A bug in handling one frame must not hang up on the caller.
                        log.exception("handling a %s frame failed; the call goes on", message.event)
        except TimeoutError:
            if waiter is not None and waiter.pushed_out:
                reason = "pushed out"
                self._closures.count("media sockets closed: pushed out by newer ones waiting")
            else:
                reason = "no start in time"
                self._closures.count("media sockets closed: no start in time")
        finally:
            if waiter is not None:
                self._admission.done_waiting(waiter)
            if call is not None:
                await call.close(reason)
            if counters.troubled:
                log.warning("stream ended with %s", counters.summary())
            policy = counters.closing_reason or reason in ("no start in time", "pushed out")
            await ws.close(code=WSCloseCode.POLICY_VIOLATION if policy else WSCloseCode.OK)
        return ws

    async def _dispatch(
        self,
        message: InboundMessage,
        call: MediaCall | None,
        ws: web.WebSocketResponse,
        watch: FrameWatch | None,
        counters: StreamGuard,
    ) -> MediaCall | None:
        """Hand one frame to the call; returns the call (new after `start`)."""
        if isinstance(message, StopMessage):
            raise StreamEnded("stop")
        if isinstance(message, StartMessage):
            if call is not None:
                log.error("second start on one stream ignored")
                return call
            try:
                started = await self._start(message.start, ws)
            except Exception as exc:
                # No call to talk to: end the stream, so Twilio plays the TwiML after it.
                log.exception("starting the call failed")
                raise StreamEnded("start failed") from exc
            if started is None:
                raise StreamEnded("refused start")
            return started
        if isinstance(message, MediaMessage) and watch is not None:
            watch.frame(message.media.timestamp)
        if call is None:
            return None
        if isinstance(message, MediaMessage):
            audio = _decode_payload(message.media.payload, counters)
            if audio:
                await call.on_audio(audio, message.media.timestamp)
        elif isinstance(message, MarkMessage):
            call.on_mark(message.mark.name)
        elif isinstance(message, DtmfMessage):
            await call.on_dtmf(message.dtmf.digit)
        return call

    async def _start(self, start: StartInfo, ws: web.WebSocketResponse) -> MediaCall | None:
        # From here every log line of this socket, and of the tasks the call starts, names it.
        bind_call(start.call_sid)
        token = start.custom_parameters.get(TOKEN_PARAMETER, "")
        try:
            if self._settings.twilio_skip_signature:
                identity = self._unchecked_identity(start, token)
            else:
                identity = await self._tokens.redeem(token, start.call_sid, start.stream_sid)
        except TokenError as exc:
            log.warning("media stream refused: %s", exc.reason)
            return None
        return await self._start_call(start, identity, TwilioAudioSink(ws, start.stream_sid))

    def _unchecked_identity(self, start: StartInfo, token: str) -> CallIdentity:
        """Development only (TWILIO_SKIP_SIGNATURE): the token's identity if it has one, else
        what the stream says about itself."""
        try:
            return self._tokens.verify(token, start.call_sid)
        except TokenError:
            log.warning("TWILIO_SKIP_SIGNATURE is set: caller identity taken from the stream")
            parameters = start.custom_parameters
            return CallIdentity(
                start.call_sid, parameters.get("from", ""), parameters.get("to", ""), ""
            )


class Tally:
    """Counts one kind of event, logging the first and then one line per many."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def count(self, what: str) -> None:
        n = self._counts[what] = self._counts.get(what, 0) + 1
        if n % REFUSALS_PER_LOG_LINE == 1:
            log.warning("%s (%d so far)", what, n)


def _decode_payload(payload: str, counters: StreamGuard) -> bytes:
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        counters.malformed += 1
        log.error("media frame with a payload that is not base64 ignored")
        return b""
