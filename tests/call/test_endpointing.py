"""The endpointer: which silence window each pause gets, from the turn model and the words."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine

import pytest

from bridge.call.endpointing import Endpointer, sounds_unfinished
from bridge.dialplan.models import TurnSettings
from bridge.speech.base import Transcript

SETTINGS = TurnSettings(silence_ms=600, complete_ms=250, incomplete_ms=1600)


class ScriptedModel:
    """A turn model that answers each call with the next scripted probability (or error)."""

    def __init__(self, *answers: float | Exception) -> None:
        self._answers = list(answers)
        self.heard: list[bytes] = []
        self.release = asyncio.Event()
        self.release.set()
        self.asked = asyncio.Event()

    async def complete(self, pcm16: bytes, sample_rate: int) -> float:
        self.heard.append(pcm16)
        self.asked.set()
        await self.release.wait()
        answer = self._answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Harness:
    def __init__(self, model: ScriptedModel | None, settings: TurnSettings = SETTINGS) -> None:
        self.holds: list[int] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.endpointer = Endpointer(settings, model, 8000, self.holds.append, self.own)

    def own(self, coro: Coroutine[object, object, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self.tasks.append(task)
        return task

    async def settle(self) -> None:
        await asyncio.gather(*self.tasks, return_exceptions=True)


def transcript(text: str) -> asyncio.Task[Transcript]:
    async def done() -> Transcript:
        return Transcript(text=text)

    return asyncio.create_task(done())


async def test_a_gap_between_words_ends_before_the_model_is_asked():
    model = ScriptedModel(0.9)
    harness = Harness(model)
    harness.endpointer.silence_started(b"turn", None)
    await asyncio.sleep(0)
    harness.endpointer.cancel()
    await harness.settle()
    assert model.heard == [] and harness.holds == [1600]


async def test_a_complete_verdict_shortens_the_pause_to_complete_ms():
    model = ScriptedModel(0.9)
    harness = Harness(model)
    harness.endpointer.silence_started(b"turn", transcript("Where is my order?"))
    await harness.settle()
    assert harness.holds == [1600, 250]
    assert model.heard == [b"turn"]
    assert harness.endpointer.verdict == "complete"


async def test_an_incomplete_verdict_keeps_the_long_window():
    harness = Harness(ScriptedModel(0.2))
    harness.endpointer.silence_started(b"turn", transcript("I'd like to check on"))
    await harness.settle()
    assert harness.holds == [1600]
    assert harness.endpointer.verdict == "incomplete"


async def test_words_that_stop_mid_thought_overrule_a_complete_verdict():
    harness = Harness(ScriptedModel(0.95))
    harness.endpointer.silence_started(b"turn", transcript("My order number is"))
    await harness.settle()
    assert harness.holds == [1600, 1600]
    assert harness.endpointer.verdict == "unfinished words"


def slow_transcript(text: str, after_s: float = 0.3) -> asyncio.Task[Transcript]:
    async def late() -> Transcript:
        await asyncio.sleep(after_s)
        return Transcript(text=text)

    return asyncio.create_task(late())


async def test_a_complete_verdict_waits_for_the_words_under_the_long_window():
    model = ScriptedModel(0.9)
    harness = Harness(model)
    words = slow_transcript("Where is my order?")
    harness.endpointer.silence_started(b"turn", words)
    await model.asked.wait()
    await asyncio.sleep(0.01)  # the verdict is in; the words are not
    assert not words.done() and harness.holds == [1600]
    await harness.settle()
    # The words are fine: only now the short window (already outlasted: the turn ends).
    assert harness.holds == [1600, 250]
    assert harness.endpointer.verdict == "complete"


async def test_slow_words_that_stop_mid_thought_bring_the_long_window_back():
    harness = Harness(ScriptedModel(0.9))
    harness.endpointer.silence_started(b"turn", slow_transcript("I want to talk to"))
    await harness.settle()
    assert harness.holds == [1600, 1600]
    assert harness.endpointer.verdict == "unfinished words"


async def test_a_failed_transcript_leaves_the_model_verdict_alone():
    async def fails() -> str:
        raise RuntimeError("stt down")

    failing = asyncio.create_task(fails())
    harness = Harness(ScriptedModel(0.9))
    harness.endpointer.silence_started(b"turn", failing)
    await harness.settle()
    assert harness.holds == [1600, 250]


async def test_a_failing_model_falls_back_to_silence_ms():
    harness = Harness(ScriptedModel(RuntimeError("pool saturated")))
    harness.endpointer.silence_started(b"turn", None)
    await harness.settle()
    assert harness.holds == [1600, 600]


async def test_without_a_model_the_detector_keeps_silence_ms():
    harness = Harness(None)
    harness.endpointer.silence_started(b"turn", transcript("and"))
    await harness.settle()
    assert harness.holds == []
    assert harness.endpointer.verdict == "no model"


async def test_silence_endpointing_in_the_dialplan_never_asks_the_model():
    model = ScriptedModel(0.9)
    harness = Harness(model, SETTINGS.model_copy(update={"endpointing": "silence"}))
    harness.endpointer.silence_started(b"turn", None)
    await harness.settle()
    assert harness.holds == [] and model.heard == []


async def test_speech_resuming_before_the_verdict_cancels_it_without_touching_the_transcript():
    model = ScriptedModel(0.9)
    model.release.clear()
    words = transcript("hello")
    harness = Harness(model)
    harness.endpointer.silence_started(b"turn", words)
    await model.asked.wait()
    harness.endpointer.cancel()
    model.release.set()
    await harness.settle()
    assert harness.holds == [1600]
    assert (await words).text == "hello"


DIGITS = SETTINGS.model_copy(update={"digits_ms": 2500})


async def test_waiting_for_digits_a_whole_id_read_out_ends_at_the_short_window():
    harness = Harness(ScriptedModel(0.9), DIGITS)
    harness.endpointer.expect_digits = True
    harness.endpointer.silence_started(b"turn", transcript("It's order 4 5 7 2."))
    await harness.settle()
    assert harness.holds == [2500, 250]


@pytest.mark.parametrize("text", ["4 5", "I have it here somewhere", ""])
async def test_waiting_for_digits_anything_short_of_an_id_keeps_the_digits_window(text: str):
    harness = Harness(ScriptedModel(0.9), DIGITS)
    harness.endpointer.expect_digits = True
    harness.endpointer.silence_started(b"turn", transcript(text))
    await harness.settle()
    assert harness.holds == [2500, 2500]


async def test_waiting_for_digits_without_a_model_every_pause_gets_the_digits_window():
    harness = Harness(None, DIGITS)
    harness.endpointer.expect_digits = True
    harness.endpointer.silence_started(b"turn", transcript("4 5 7 2"))
    await harness.settle()
    assert harness.holds == [2500]
    assert harness.endpointer.verdict == "digits"


@pytest.mark.parametrize(
    ("text", "unfinished"),
    [
        ("Where is my order?", False),
        ("It's order 4 5 7 2.", False),
        ("My zip code is 97201.", False),
        ("Thanks, that's all.", False),
        ("Who am I speaking with?", False),
        ("I'd like to cancel my subscription please.", False),
        ("", False),
        ("I want to check my order and", True),
        ("My order number is", True),
        ("It's order 4 5", True),
        ("I was calling because,", True),
        ("I need to talk to the...", True),
        ("Um, so the thing is, uh", True),
        ("I want to talk to", True),
    ],
)
def test_words_that_cannot_end_a_thought(text: str, unfinished: bool):
    assert sounds_unfinished(text) is unfinished
