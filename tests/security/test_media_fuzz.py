"""Property: random and malformed frames on media sockets never crash the bridge nor disturb
a real call running alongside. Hypothesis drives the sockets from a worker thread; the
bridge, the real call and every fuzzed socket share the test's event loop. Each fuzzed socket
comes from its own address (through a trusted proxy): one address's handshake budget is
test_media_flood.py's subject, not this test's."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.demo.local import LocalBridge, local_bridge
from bridge.sim.calls import place_call
from bridge.sim.script import Say
from bridge.speech.factory import SpeechModels
from tests.security.test_media_flood import open_from
from tests.support.bridges import bridge_settings
from tests.support.twilio_side import answer_call, send_start

pytestmark = pytest.mark.models

FUZZ_EXAMPLES = 120
EVENTS = ["connected", "start", "media", "mark", "dtmf", "stop", "clear", "x"]
REAL_CALL = [
    Say("I'd like to check on my order."),
    Say("It's order 4 5 7 2."),
    Say("The billing department, please."),
]

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
_b64 = st.binary(max_size=400).map(lambda raw: base64.b64encode(raw).decode("ascii"))
_twilio_like = st.fixed_dictionaries(
    {
        "event": st.sampled_from(
            ["connected", "start", "media", "mark", "dtmf", "stop", "clear", "x"]
        )
    },
    optional={
        "streamSid": st.text(max_size=40),
        "sequenceNumber": st.text(max_size=5) | st.integers(),
        "media": st.fixed_dictionaries(
            {},
            optional={
                "payload": _b64 | st.text(max_size=50),
                "timestamp": st.text(max_size=8) | st.integers() | st.floats(),
                "chunk": st.text(max_size=4),
                "track": st.text(max_size=8),
            },
        ),
        "mark": st.fixed_dictionaries({}, optional={"name": _json}),
        "dtmf": st.fixed_dictionaries({}, optional={"digit": st.text(max_size=3)}),
        "start": _json,
    },
).map(json.dumps)
_frame = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200),
    _json.map(json.dumps),
    _twilio_like,
)


async def fuzz_socket(
    bridge: LocalBridge, frames: list[str | bytes], started: bool, client: str
) -> None:
    """One socket: optionally a genuine call's start first, then the frames; then the bridge
    must still answer."""
    async with aiohttp.ClientSession() as http:
        async with await open_from(bridge.twilio, http, client) as ws:
            if started:
                await send_start(ws, bridge.twilio, await answer_call(bridge.twilio, http))
            for frame in frames:
                if ws.closed:
                    break
                try:
                    if isinstance(frame, bytes):
                        await ws.send_bytes(frame)
                    else:
                        await ws.send_str(frame)
                except ConnectionError:
                    break
        async with http.get(f"{bridge.twilio.bridge_url}/healthz") as health:
            assert health.status == 200


async def test_fuzzed_sockets_never_crash_the_bridge_or_disturb_a_real_call(
    speech: SpeechModels, tmp_path: Path
) -> None:
    behind_proxy = bridge_settings(tmp_path, TRUSTED_PROXIES="127.0.0.1")
    async with local_bridge(behind_proxy, speech) as bridge:
        await fuzz_beside_a_real_call(bridge, speech)


async def fuzz_beside_a_real_call(bridge: LocalBridge, speech: SpeechModels) -> None:
    loop = asyncio.get_running_loop()
    real_call = asyncio.create_task(
        place_call(
            bridge.twilio,
            [
                Say("I'd like to check on my order."),
                Say("It's order 4 5 7 2."),
                Say("The billing department, please."),
            ],
            speech.caller_tts,
            caller="+15035550142",
            speed=1.5,
        )
    )
    while not bridge.services.live:  # noqa: ASYNC110 - the live map has no change signal
        await asyncio.sleep(0.05)
    examples: list[bool] = []  # per example: was the real call still on?

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(frames=st.lists(_frame, max_size=30), started=st.booleans())
    def fuzz(frames: list[str | bytes], started: bool) -> None:
        client = f"198.51.100.{len(examples) % 250}"
        examples.append(not real_call.done())
        fuzzed = fuzz_socket(bridge, frames, started, client)
        asyncio.run_coroutine_threadsafe(fuzzed, loop).result(30)

    await asyncio.to_thread(fuzz)
    report = await real_call

    print(f"fuzz: {len(examples)} sockets, {sum(examples)} while the real call was on")
    assert len(examples) == FUZZ_EXAMPLES and examples[0]
    tools = [tool for turn in report.turns for tool in turn.tools]
    assert [tool.name for tool in tools] == ["check_order_status", "transfer_call"]
    assert tools[0].result["status"] == "shipped"
    assert report.status == "transferred"
    assert len(report.twilio_actions) == 1
