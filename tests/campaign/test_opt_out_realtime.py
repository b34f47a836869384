"""`agent.mode: realtime` on a call the bridge placed: the model calls `opt_out`, and the
confirmation is said as written (asked of the model word for word) before the hang-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bridge.audio.wav import write_wav
from bridge.bench.voice import buzz
from bridge.demo.local import local_bridge
from bridge.dialplan.outbound import DEFAULT_OPT_OUT_CONFIRMATION
from bridge.sim.callee import Callee, CalleePlayer
from bridge.sim.fake_llm import FakeReply, FakeToolCall
from bridge.sim.fake_realtime import FakeRealtime, RealtimeTurn
from bridge.sim.script import PlayAudio
from tests.e2e.test_realtime_calls import BuzzingCaller, realtime_plans
from tests.support.bridges import bridge_settings

CALLEE = "+12125551000"


async def test_a_realtime_callee_who_opts_out_hears_the_confirmation_then_the_hang_up(
    tmp_path: Path,
) -> None:
    words = tmp_path / "words.wav"
    write_wav(words, buzz(900) + bytes(16_000), 8000)
    async with FakeRealtime(delay_s=0.05) as fake:
        opt_out = FakeToolCall("opt_out", {"reason": "asked not to be called"})
        fake.script(RealtimeTurn("Please don't call me again", FakeReply("", (opt_out,))))
        settings = bridge_settings(
            tmp_path,
            realtime_plans(tmp_path),
            STT_PROVIDER="instant",
            TTS_PROVIDER="instant",
            OPENAI_API_KEY="sk-fake",
            OPENAI_REALTIME_BASE_URL=fake.openai_base_url,
        )
        async with local_bridge(settings) as bridge:
            api = bridge.twilio.api
            api.player = CalleePlayer(
                bridge.twilio.account_sid, bridge.twilio.auth_token, BuzzingCaller(),
                speed=4, admin_token=bridge.twilio.admin_token,
            )  # fmt: skip
            api.player.callees[CALLEE] = Callee(lines=(PlayAudio(words),), ring_ms=200)
            placed = await bridge.services.dial("acme", CALLEE, {"name": "Dana", "order_id": "1"})
            await asyncio.wait_for(api.placed[placed.call_sid].done.wait(), timeout=60)
            store = bridge.services.store
            record = await store.get(placed.call_sid)
            blocked = await store.campaigns.do_not_call()
    assert record is not None and record.outcome == "opted_out"
    assert blocked == {CALLEE}
    assert "opt_out" in {tool["name"] for tool in fake.sessions[-1]["tools"]}
    assert [t.name for turn in record.turns for t in turn.tools] == ["opt_out"]
    said = " ".join(turn.heard for turn in record.turns)
    assert DEFAULT_OPT_OUT_CONFIRMATION in said
    assert api.actions(placed.call_sid)[-1]["params"] == {"Status": "completed"}
