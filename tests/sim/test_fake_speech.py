"""The stand-in speech vendor `bridge eval` fails to order, through the real `openai` client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import openai
import pytest

from bridge.config import Settings
from bridge.openai_client import openai_client
from bridge.sim.fake_speech import FakeSpeechApi
from bridge.speech.instant import INSTANT_TRANSCRIPT, InstantSTT, InstantTTS
from bridge.speech.openai_speech import OpenAISTT, OpenAITTS

SPEECH = bytes(1600)  # 100 ms at 8 kHz


@pytest.fixture
async def vendor() -> AsyncIterator[FakeSpeechApi]:
    async with FakeSpeechApi(InstantSTT(), InstantTTS()) as api:
        yield api


def clients(vendor: FakeSpeechApi) -> tuple[OpenAISTT, OpenAITTS]:
    client = openai_client(Settings(_env_file=None), vendor.base_url)  # type: ignore[call-arg]
    return OpenAISTT(client), OpenAITTS(client)


async def spoken(tts: OpenAITTS, text: str) -> bytes:
    return b"".join([chunk async for chunk in tts.synthesize(text)])


async def test_without_faults_it_speaks_and_hears_with_the_local_models(
    vendor: FakeSpeechApi,
) -> None:
    stt, tts = clients(vendor)
    assert (await stt.transcribe(SPEECH, 8000)).text == INSTANT_TRANSCRIPT
    assert len(await spoken(tts, "Hello there.")) > 0


async def test_a_failing_side_answers_every_request_with_a_server_error(
    vendor: FakeSpeechApi,
) -> None:
    stt, tts = clients(vendor)
    vendor.stt_fault = vendor.tts_fault = "fail"
    with pytest.raises(openai.InternalServerError):
        await stt.transcribe(SPEECH, 8000)
    with pytest.raises(openai.InternalServerError):
        await spoken(tts, "Hello there.")


async def test_a_hung_side_holds_the_request_until_the_vendor_closes(
    vendor: FakeSpeechApi,
) -> None:
    _, tts = clients(vendor)
    vendor.tts_fault = "hang"
    request = asyncio.create_task(spoken(tts, "Hello there."))
    while not vendor.requests:  # noqa: ASYNC110  (until the request has arrived)
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert not request.done()
    await vendor.close()
    with pytest.raises(openai.APIError):
        await request
