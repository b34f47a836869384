"""A flood of media sockets that never send `start`, over HTTP against the real app.

The attacker has a valid upgrade signature (it covers only the URL, the same for every call, so
one seen anywhere can be replayed) but no call's token. Sources are told apart the way they are
in production, behind a proxy named in TRUSTED_PROXIES that says who the client is."""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from aiohttp import WSCloseCode, WSMsgType

from bridge.sim.calls import TwilioSide
from bridge.twilio.accept import AcceptGate, Tarpit
from bridge.twilio.admission import RETRY_AFTER_S, MediaAdmission
from bridge.twilio.limits import StreamLimits
from bridge.twilio.signature import sign_request
from tests.security.test_slow_clients import GIVE_UP_S, bridge_with
from tests.support.twilio_side import answer_call, send_start

ATTACKER = "203.0.113.7"
TWILIO = "198.51.100.20"  # one of Twilio's media addresses
BUDGET = StreamLimits().handshake_burst_per_source
BEHIND_PROXY = {"TRUSTED_PROXIES": "127.0.0.1", "MEDIA_START_TIMEOUT_S": 60}


def media_url(twilio: TwilioSide) -> str:
    return twilio.bridge_url.replace("http://", "ws://") + "/twilio/media"


async def open_from(
    twilio: TwilioSide,
    http: aiohttp.ClientSession,
    client: str,
    *,
    signed: bool = True,
    url: str | None = None,
) -> aiohttp.ClientWebSocketResponse:
    """A media socket as the proxy in front passes it on: the client's address forwarded."""
    url = url or media_url(twilio)
    headers = {"X-Forwarded-For": client}
    if signed:
        headers["X-Twilio-Signature"] = sign_request(twilio.auth_token, url, {})
    return await http.ws_connect(url, headers=headers)


async def handshake_status(twilio: TwilioSide, http: aiohttp.ClientSession, client: str) -> int:
    """The status an unsigned upgrade gets (101 would mean it was let in)."""
    try:
        ws = await open_from(twilio, http, client, signed=False)
    except aiohttp.WSServerHandshakeError as refused:
        return refused.status
    await ws.close()
    return 101


async def real_call_starts(twilio: TwilioSide, http: aiohttp.ClientSession) -> bool:
    """A call answered by the webhook, its stream from Twilio's address: does it go live?"""
    answered = await answer_call(twilio, http)
    async with await open_from(twilio, http, TWILIO, url=answered.stream_url) as ws:
        await send_start(ws, twilio, answered)
        async with asyncio.timeout(GIVE_UP_S):
            first = await ws.receive()
        return first.type is WSMsgType.TEXT  # the greeting streams


async def test_sockets_that_never_start_cannot_make_the_bridge_refuse_a_real_call(
    tmp_path: Path,
) -> None:
    async with bridge_with(tmp_path, MEDIA_WAITING_LIMIT=5, **BEHIND_PROXY) as bridge:
        async with aiohttp.ClientSession() as http:
            # The attacker fills every place for sockets waiting for their `start`...
            idle = [await open_from(bridge.twilio, http, ATTACKER) for _ in range(5)]
            # ...and a real call still goes live: the flood's oldest socket makes way.
            assert await real_call_starts(bridge.twilio, http)
            async with asyncio.timeout(GIVE_UP_S):
                pushed_out = await idle[0].receive()
            for ws in idle:
                await ws.close()
    assert pushed_out.type is WSMsgType.CLOSE
    assert pushed_out.data == WSCloseCode.POLICY_VIOLATION


async def test_one_address_holds_only_its_share_of_sockets_waiting_for_start(
    tmp_path: Path,
) -> None:
    share = StreamLimits().waiting_per_source
    async with bridge_with(tmp_path, **BEHIND_PROXY) as bridge:
        async with aiohttp.ClientSession() as http:
            idle = [await open_from(bridge.twilio, http, ATTACKER) for _ in range(share + 3)]
            async with asyncio.timeout(GIVE_UP_S):
                ends = await asyncio.gather(*(ws.receive() for ws in idle[:3]))
            for ws in idle:
                await ws.close()
    assert {(end.type, end.data) for end in ends} == {
        (WSMsgType.CLOSE, WSCloseCode.POLICY_VIOLATION)
    }


async def test_handshakes_past_an_addresss_budget_are_refused_before_the_signature_check(
    tmp_path: Path,
) -> None:
    async with bridge_with(tmp_path, **BEHIND_PROXY) as bridge:
        async with aiohttp.ClientSession() as http:
            statuses = [
                await handshake_status(bridge.twilio, http, ATTACKER) for _ in range(BUDGET + 1)
            ]
            # Twilio, from its own address, is not held back by the attacker's spent budget.
            assert await real_call_starts(bridge.twilio, http)
    assert statuses[:BUDGET] == [403] * BUDGET  # the signature checked, and refused
    assert statuses[BUDGET] == 429  # refused before any signature work


async def test_a_forged_forwarded_for_from_an_untrusted_peer_buys_no_fresh_budget(
    tmp_path: Path,
) -> None:
    async with bridge_with(tmp_path, MEDIA_START_TIMEOUT_S=60) as bridge:  # no trusted proxy
        async with aiohttp.ClientSession() as http:
            statuses = [
                await handshake_status(bridge.twilio, http, f"192.0.2.{n}")
                for n in range(BUDGET + 1)
            ]
    assert statuses[BUDGET] == 429


async def test_real_calls_give_their_handshakes_back(tmp_path: Path) -> None:
    async with bridge_with(tmp_path, **BEHIND_PROXY) as bridge:
        async with aiohttp.ClientSession() as http:
            # A whole budget's worth of real calls from Twilio's address...
            for _ in range(BUDGET):
                assert await real_call_starts(bridge.twilio, http)
            # ...leaves that address its whole budget for handshakes that prove nothing.
            statuses = [await handshake_status(bridge.twilio, http, TWILIO) for _ in range(BUDGET)]
    assert statuses == [403] * BUDGET


async def test_an_address_refused_for_its_flood_waits_in_the_tarpit_unread(
    tmp_path: Path,
) -> None:
    """A flood that reconnects the moment it is refused cost the bridge a request parsed and a
    429 answered per connection, then (closed at accept) an accept and a close hundreds of
    times a second. Refused once, its next connections are held open and unread, so its
    reconnect loop waits on them, while other addresses are served as before."""
    # The direct peer is the source; idle connections would be kept open past GIVE_UP_S.
    async with bridge_with(
        tmp_path, MEDIA_START_TIMEOUT_S=60, REQUEST_TIMEOUT_S=60, TARPIT_HOLD_S=60
    ) as bridge:
        url = urlsplit(bridge.twilio.bridge_url)
        # A connection opened early, to be kept alive and reused once the address is refused.
        early = await asyncio.open_connection(url.hostname, url.port)
        async with aiohttp.ClientSession() as http:
            statuses = [
                await handshake_status(bridge.twilio, http, ATTACKER) for _ in range(BUDGET)
            ]
        refused_on_early = await answer_and_close(early, UPGRADE)
        held = await asyncio.open_connection(url.hostname, url.port)
        held[1].write(UPGRADE)
        # Accepted after it, a request from another address is answered...
        elsewhere = await asyncio.open_connection(url.hostname, url.port, local_addr=(OTHER, 0))
        answer_elsewhere = await answer_and_close(elsewhere, HEALTHZ)
        # ...while the refused address's connection has had no byte back, and is still open.
        on_held = await first_byte_then_close(held)
    assert statuses == [403] * BUDGET
    # The refusal ends its connection (read to the end: not kept alive for the next try)...
    assert refused_on_early.startswith(b"HTTP/1.1 429")
    assert answer_elsewhere.startswith(b"HTTP/1.1 200")
    assert on_held is None


OTHER = "127.0.0.2"  # Linux answers on all of 127.0.0.0/8
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n"


UPGRADE = (
    b"GET /twilio/media HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
)


async def first_byte_then_close(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter],
) -> bytes | None:
    """The first byte the server sends within 0.2 s (None: nothing, the connection held)."""
    reader, writer = connection
    try:
        async with asyncio.timeout(0.2):
            return await reader.read(1)
    except TimeoutError:
        return None
    finally:
        writer.close()


async def answer_and_close(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes
) -> bytes:
    """Send one request; everything the server sends until it closes the connection."""
    reader, writer = connection
    writer.write(request)
    try:
        async with asyncio.timeout(GIVE_UP_S):
            return await reader.read()
    finally:
        writer.close()


def test_a_refused_source_is_shut_out_only_until_its_retry_after() -> None:
    now = [0.0]
    limits = StreamLimits(handshake_burst_per_source=1, handshakes_per_s_per_source=2.0)
    admission = MediaAdmission(limits, clock=lambda: now[0])
    assert admission.take_handshake(ATTACKER)
    assert not admission.in_penalty(ATTACKER)  # spent its budget, but was never refused
    assert not admission.take_handshake(ATTACKER)
    assert admission.in_penalty(ATTACKER)
    assert not admission.in_penalty(TWILIO)
    now[0] = RETRY_AFTER_S - 0.1  # its budget refilled meanwhile, but it was told to wait
    assert admission.in_penalty(ATTACKER)
    now[0] = RETRY_AFTER_S
    assert not admission.in_penalty(ATTACKER)
    assert admission.take_handshake(ATTACKER)


def test_the_tarpit_holds_a_bounded_number_and_resets_each_when_its_time_is_up() -> None:
    now = [0.0]
    tarpit = Tarpit(capacity=2, hold_s=10.0, clock=lambda: now[0])
    pairs = [socket.socketpair() for _ in range(3)]
    try:
        held = [tarpit.hold(ours) for ours, _ in pairs]
        now[0] = 9.0
        early = tarpit.release_due(at_most=10)
        now[0] = 10.0
        due = tarpit.release_due(at_most=1)  # spread out: one per call here
        peers_after_first = [theirs.recv(1) for _, theirs in pairs[:1]]
        rest = tarpit.release_due(at_most=10)
        ends = [theirs.recv(1) for _, theirs in pairs[:2]]
    finally:
        for ours, theirs in pairs:
            ours.close()
            theirs.close()
    assert held == [True, True, False]  # full: the third is the caller's to reset at once
    assert (early, due, rest) == (0, 1, 1)
    assert peers_after_first == [b""] and ends == [b"", b""]
    assert len(tarpit) == 0


def test_a_source_that_reconnects_while_shut_out_stays_shut_out() -> None:
    now = [0.0]
    limits = StreamLimits(handshake_burst_per_source=1)
    admission = MediaAdmission(limits, clock=lambda: now[0])
    assert admission.take_connection(ATTACKER)  # no connection budget set: only penalties
    admission.take_handshake(ATTACKER)
    assert not admission.take_handshake(ATTACKER)  # refused: in penalty until RETRY_AFTER_S
    heard = []
    for tick in (1.5, 3.0, 4.5):  # reconnecting within each Retry-After window
        now[0] = tick
        heard.append(admission.take_connection(ATTACKER))
    now[0] = 4.5 + RETRY_AFTER_S  # quiet for a whole window
    heard.append(admission.take_connection(ATTACKER))
    assert heard == [False, False, False, True]
    assert admission.take_connection(TWILIO)


def test_connecting_faster_than_the_connection_budget_shuts_a_source_out() -> None:
    now = [0.0]
    limits = StreamLimits(connections_per_s_per_source=1.0, connection_burst_per_source=3)
    admission = MediaAdmission(limits, clock=lambda: now[0])
    burst = [admission.take_connection(ATTACKER) for _ in range(4)]
    assert burst == [True, True, True, False]
    assert admission.take_connection(TWILIO)  # another address has its own budget
    now[0] = RETRY_AFTER_S  # the penalty is over and its budget has refilled
    assert admission.take_connection(ATTACKER)


async def test_an_address_over_its_connection_budget_waits_in_the_tarpit(
    tmp_path: Path,
) -> None:
    """Set for a bridge that Twilio reaches directly: a burst of connections from one address
    beyond its budget (here 1 a second, bursts of 4) is held, unread, while others are served."""
    async with bridge_with(tmp_path, CONNECTIONS_PER_S_PER_ADDRESS=1, TARPIT_HOLD_S=60) as bridge:
        url = urlsplit(bridge.twilio.bridge_url)
        burst = [
            await asyncio.open_connection(url.hostname, url.port, local_addr=(OTHER, 0))
            for _ in range(5)
        ]
        for _, writer in burst:
            writer.write(HEALTHZ)
        # Accepted after them, a request from another address is answered...
        elsewhere = await asyncio.open_connection(url.hostname, url.port)
        answer_elsewhere = await answer_and_close(elsewhere, HEALTHZ)
        answers = [await answer_and_close(connection, b"") for connection in burst[:4]]
        on_held = await first_byte_then_close(burst[4])
    assert answer_elsewhere.startswith(b"HTTP/1.1 200")
    assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers)
    assert on_held is None


class Echo(asyncio.Protocol):
    """Stands in for aiohttp's server behind the gate: answers what it is sent."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._transport.write(data)


async def test_out_of_file_descriptors_the_tarpit_lets_go_before_a_real_client_waits() -> None:
    """An attacker held in the tarpit until the process has no descriptor left: the held
    connections are reset, and the next connection, from another address, is served."""
    admission = MediaAdmission(StreamLimits(handshake_burst_per_source=1))
    while admission.take_handshake(OTHER):
        pass  # OTHER has been refused: in penalty
    gate = AcceptGate(Echo, admission, [], Tarpit(capacity=1000, hold_s=600.0))
    listener = socket.create_server(("127.0.0.1", 0))
    gate.listen(listener)
    port = listener.getsockname()[1]
    # The attacker is another process (its sockets are not this one's descriptors); the real
    # client's socket is made before descriptors run short, as a client elsewhere has its own.
    attacker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ATTACKER_PROCESS, OTHER, str(port),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert attacker.stdin is not None and attacker.stdout is not None
    client = socket.socket()
    client.setblocking(False)
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 20, limits[1])
        )
        attacker.stdin.write(b"go\n")
        async with asyncio.timeout(GIVE_UP_S):
            await attacker.stdout.readline()  # its 60 connections wait to be accepted, first
        await asyncio.get_running_loop().sock_connect(client, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=client)
        writer.write(b"ping")
        async with asyncio.timeout(GIVE_UP_S):
            echo = await reader.readexactly(4)
        writer.close()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, limits)
        attacker.kill()
        await attacker.wait()
        gate.unlisten(listener)
        gate.close()
        listener.close()
        client.close()
    assert gate.out_of_files  # the descriptors did run out
    assert echo == b"ping"


ATTACKER_PROCESS = """
import socket, sys, time
sys.stdin.readline()
held = []
for _ in range(60):
    sock = socket.socket()
    sock.bind((sys.argv[1], 0))
    sock.connect(("127.0.0.1", int(sys.argv[2])))
    held.append(sock)
print("open", flush=True)
time.sleep(600)
"""
