"""The console's pages over real call records: search, one call, its recording, dialplans."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bridge.audio.wav import write_wav
from bridge.demo.local import LocalBridge, local_bridge
from bridge.records import (
    CallRecord,
    ToolCallRecord,
    TurnLatency,
    TurnRecord,
    TwilioAction,
)
from bridge.speech.factory import load_speech
from tests.console.conftest import REPO, console_settings, csrf_token, log_in

DAY = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


async def _store_call(
    bridge: LocalBridge, sid: str, caller: str, dialplan: str, status: str, at: datetime
) -> None:
    store = bridge.services.store
    await store.open_call(
        CallRecord(
            call_sid=sid,
            from_number=caller,
            to_number="+15555550100",
            dialplan=dialplan,
            started_at=at,
        )
    )
    await store.close_call(sid, status, "test")  # type: ignore[arg-type]


async def _page(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url, allow_redirects=False) as response:
        assert response.status == 200, await response.text()
        return await response.text()


async def test_call_search_filters_by_number_date_dialplan_and_outcome(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    await _store_call(console_bridge, "CAone", "+15550001111", "acme", "completed", DAY)
    await _store_call(console_bridge, "CAtwo", "+15550002222", "cedar", "transferred", DAY)
    later = DAY + timedelta(days=3)
    await _store_call(console_bridge, "CAthree", "+15550003333", "acme", "failed", later)
    await log_in(browser, base)

    searches = {
        "number=0002222": {"CAtwo"},
        "dialplan=acme": {"CAone", "CAthree"},
        "status=transferred": {"CAtwo"},
        "since=2025-03-02": {"CAthree"},
        "until=2025-03-01": {"CAone", "CAtwo"},
        "dialplan=acme&status=failed": {"CAthree"},
        "": {"CAone", "CAtwo", "CAthree"},
    }
    for query, expected in searches.items():
        html = await _page(browser, f"{base}/console/calls?{query}")
        shown = {sid for sid in ("CAone", "CAtwo", "CAthree") if f"/calls/{sid}" in html}
        assert shown == expected, query


async def test_a_bad_date_in_the_search_is_explained(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    await log_in(browser, base)
    async with browser.get(f"{base}/console/calls?since=yesterday") as response:
        assert response.status == 400
        assert "from date must be a date" in await response.text()


async def test_call_page_shows_heard_and_cut_off_text_tools_actions_and_waterfall(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    record = CallRecord(
        call_sid="CAcall",
        from_number="+15550001111",
        to_number="+15555550100",
        dialplan="acme",
        turns=[
            TurnRecord(
                index=0,
                caller="Put me through to billing",
                agent="Connecting you to billing now. Please hold the line.",
                heard="Connecting you to billing now.",
                interrupted=True,
                tools=[
                    ToolCallRecord(
                        name="transfer_call",
                        arguments={"department": "billing"},
                        result={"ok": True, "target": "+15555550130"},
                    )
                ],
                latency_ms=TurnLatency(
                    endpointing=700, stt=410, agent=820, tts_first_audio=900, first_media=930
                ),
            )
        ],
        twilio_actions=[
            TwilioAction(method="POST", path="/Calls/CAcall.json", params={"Twiml": "<Dial/>"})
        ],
    )
    await console_bridge.services.store.open_call(record)
    await log_in(browser, base)

    html = await _page(browser, f"{base}/console/calls/CAcall")
    assert '<span class="heard">Connecting you to billing now.</span>' in html
    assert "<del" in html and "Please hold the line." in html
    assert "<code>transfer_call</code>" in html
    assert "&quot;department&quot;: &quot;billing&quot;" in html
    assert "/Calls/CAcall.json" in html
    assert 'class="waterfall"' in html
    for stage in ("Endpointing 700 ms", "Speech to text 410 ms", "Agent (first words) 410 ms"):
        assert stage in html
    assert 'data-events="/console/calls/CAcall/events"' in html  # still active: live updates


async def test_recording_plays_only_for_a_signed_in_viewer(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    await _store_call(console_bridge, "CArec", "+15550001111", "acme", "completed", DAY)
    recordings = console_bridge.services.settings.data_dir / "recordings"
    recordings.mkdir(parents=True, exist_ok=True)  # the bridge made it
    write_wav(recordings / "CArec.wav", bytes(3200), 8000, channels=2)
    url = f"{base}/console/calls/CArec/recording.wav"
    async with browser.get(url, allow_redirects=False) as response:
        assert response.status == 401
    await log_in(browser, base)
    assert 'src="/console/calls/CArec/recording.wav"' in await _page(
        browser, f"{base}/console/calls/CArec"
    )
    async with browser.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "audio/wav"
        assert (await response.read())[:4] == b"RIFF"
    async with browser.get(f"{base}/console/calls/..%2Fcalls.db/recording.wav") as response:
        assert response.status == 404


async def test_dialplans_page_lists_what_is_served_and_the_files_validation_errors(
    tmp_path: Path, browser: aiohttp.ClientSession
) -> None:
    folder = tmp_path / "dialplans"
    shutil.copytree(REPO / "dialplans", folder)
    settings = console_settings(tmp_path, DIALPLANS_DIR=folder)
    speech = load_speech(settings)
    try:
        async with local_bridge(settings, speech) as bridge:
            base = bridge.twilio.bridge_url
            await log_in(browser, base)
            html = await _page(browser, f"{base}/console/dialplans")
            assert "is valid" in html and "acme" in html and "+15555550100" in html
            (folder / "broken.yaml").write_text("name: broken\nnumbers:\n  - 5550100\n")
            html = await _page(browser, f"{base}/console/dialplans")
            assert "broken.yaml:3: numbers.0" in html
    finally:
        speech.close()


async def test_live_events_push_the_live_panel(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    await _store_call(console_bridge, "CAlive", "+15550004444", "acme", "completed", DAY)
    await log_in(browser, base)
    async with browser.get(f"{base}/console/events/live") as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        first = await response.content.readuntil(b"\n\n")
    assert first.startswith(b"event: update\n")
    assert b"No call in progress" in first and b"/console/calls/CAlive" in first


async def test_an_upload_that_is_not_a_wav_is_refused_and_not_kept(
    console_bridge: LocalBridge, browser: aiohttp.ClientSession
) -> None:
    base = console_bridge.twilio.bridge_url
    await log_in(browser, base)
    token = await csrf_token(browser, base)
    form = aiohttp.FormData()
    form.add_field("csrf", token)
    form.add_field("called", "+15555550100")
    form.add_field("lines", "")
    form.add_field("audio", b"not a wav at all", filename="x.wav", content_type="audio/wav")
    async with browser.post(f"{base}/console/test-call", data=form) as response:
        assert response.status == 400
        assert "not a PCM WAV file" in await response.text()
    uploads = console_bridge.services.settings.data_dir / "console-uploads"
    assert uploads.is_dir() and list(uploads.iterdir()) == []
