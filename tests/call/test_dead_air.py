"""Never dead air (issue 11, item 3): fillers, keep-alives, and kept phrases when speech fails."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bridge.call.playback import MediaClock, PlaybackTracker
from bridge.call.speaker import Speaker
from bridge.speech.phrases import PhraseCache
from tests.call.timeline import (
    Call,
    FakeTTS,
    FakeTwilio,
    Think,
    Voice,
    line,
    run_call,
    run_virtual,
)


async def asked(call: Call, text: str = "where is my order") -> None:
    await call.caller.say(text, 1200)
    await call.wait_until(lambda: len(call.turns) == 1)


KEEPALIVE = "Thanks for waiting, I'm still on it."


def test_a_slow_agent_gets_a_filler_and_a_keepalive_which_stay_in_the_history() -> None:
    call = run_call(asked, replies=[[Think(6000), "It ships today."]])

    assert call.twilio.heard() == ["One moment.", KEEPALIVE, "It ships today."]
    assert call.turns[0].heard == f"One moment. {KEEPALIVE} It ships today."
    assert call.history[-1].text == f"One moment. {KEEPALIVE} It ships today."


def test_a_quick_agent_gets_no_filler() -> None:
    call = run_call(asked, replies=[[Think(300), "It ships today."]])

    assert call.twilio.heard() == ["It ships today."]


def test_when_the_voice_fails_a_kept_phrase_says_so() -> None:
    call = run_call(
        asked, replies=[["It ships today. It should arrive Friday."]], tts_error=OSError("down")
    )

    assert call.twilio.heard() == ["Sorry, I'm having trouble speaking right now."]
    assert call.turns[0].heard == "Sorry, I'm having trouble speaking right now."


def test_when_speech_recognition_fails_the_caller_is_asked_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario(call: Call) -> None:
        call.stt.broken = True
        await asked(call)

    call = run_call(scenario)

    assert call.twilio.heard() == ["Sorry, I didn't catch that.", "Could you say it again?"]
    assert call.agent.turns == []
    # Reported once, by the turn that lacked the words, not again by its speculative task.
    failures = [r.name for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == ["bridge.call.hearing"]


def test_the_greeting_is_synthesized_once_for_every_call_of_the_process() -> None:
    async def two_calls() -> list[str]:
        tts = FakeTTS(Voice(), tts_ms=0)
        cache = PhraseCache()
        for _ in range(2):
            await cache.warm(tts, ["Hello there."])
        return tts.spoken

    assert run_virtual(two_calls()) == ["Hello there."]


def test_the_greeting_plays_from_the_cache_without_the_voice() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.pause(3000)

    call = run_call(scenario, dialplan=line(greeting="Hello there."), tts_error=OSError("down"))

    assert call.twilio.heard() == ["Hello there."]


def test_a_barge_in_that_cannot_be_transcribed_lets_the_reply_go_on() -> None:
    async def scenario(call: Call) -> None:
        await call.caller.say("where is my order", 1200)
        await call.wait_until(lambda: bool(call.twilio.played))
        call.stt.broken = True
        await call.caller.pause(800)
        await call.caller.say("something", 800)
        await call.wait_until(lambda: len(call.turns) == 1)

    call = run_call(scenario, replies=[["Your order left this morning. It arrives Friday."]])

    assert call.twilio.heard()[-1] == "It arrives Friday."
    assert call.turns[0].resumed == 1


# -- no silence over 2 s, whatever hangs ---------------------------------------------------

DEAD_AIR_MS = 2000


async def asked_and_answered(call: Call) -> None:
    """The caller asks; the call runs until the reply (or what stands for it) has played."""
    await call.caller.say("where is my order", 1200)
    await call.wait_until(lambda: len(call.turns) == 1)


def silence_after_the_caller(call: Call) -> float:
    return call.twilio.longest_silence(call.caller.last_word_ms)


def test_the_filler_counts_from_the_end_of_speech_so_a_hung_agent_leaves_no_dead_air() -> None:
    # The turn ends 600 ms after the caller's last word; the filler is due 1500 ms after it.
    call = run_call(asked_and_answered, replies=[[Think(9000), "It ships today."]])

    assert call.twilio.heard()[0] == "One moment."
    first = call.twilio.first_audio_after(call.caller.last_word_ms)
    assert first is not None
    assert first - call.caller.last_word_ms <= DEAD_AIR_MS


def test_a_voice_that_hangs_without_raising_is_given_up_and_a_kept_phrase_said() -> None:
    async def scenario(call: Call) -> None:
        call.tts.hang_on = ""
        await asked_and_answered(call)

    # Every sentence would hang: the voice is waited for once, not once a sentence.
    call = run_call(scenario, replies=[["It ships today. It arrives Friday. Anything else?"]])

    assert call.twilio.heard() == ["One moment.", "Sorry, I'm having trouble speaking right now."]
    assert call.turns[0].heard == "One moment. Sorry, I'm having trouble speaking right now."
    assert silence_after_the_caller(call) <= DEAD_AIR_MS


def test_a_voice_that_hangs_mid_reply_keeps_what_was_said_and_apologises() -> None:
    async def scenario(call: Call) -> None:
        call.tts.hang_on = "Friday"
        await asked_and_answered(call)

    call = run_call(scenario, replies=[["It ships today. It should arrive Friday. Anything else?"]])

    assert call.twilio.heard() == [
        "It ships today.",
        "Sorry, I'm having trouble speaking right now.",
    ]
    assert "Anything else?" not in call.tts.spoken  # not asked of a voice that just hung
    assert silence_after_the_caller(call) <= DEAD_AIR_MS


def test_a_slow_voice_gets_the_filler_first_and_then_says_all_of_the_reply() -> None:
    # The voice takes 2 s to start: slower than the filler, quicker than giving up on it.
    call = run_call(asked_and_answered, replies=[["It ships today."]], tts_ms=2000)

    assert call.twilio.heard() == ["One moment.", "It ships today."]
    assert silence_after_the_caller(call) <= DEAD_AIR_MS


@pytest.mark.parametrize("silence_ms", [600, 1500])
def test_a_recogniser_that_hangs_is_given_up_and_the_caller_asked_again(silence_ms: int) -> None:
    # Its deadline counts from the caller's last word: a long endpointing wait is no excuse.
    # 3.5 s: the filler's 1.5 s, the filler itself, then under 2 s more.
    async def scenario(call: Call) -> None:
        call.stt.hung = True
        await asked_and_answered(call)

    plan = line(turns={"silence_ms": silence_ms}, call={"stt_timeout_ms": 3500})
    call = run_call(scenario, dialplan=plan)

    assert call.twilio.heard() == [
        "One moment.",
        "Sorry, I didn't catch that.",
        "Could you say it again?",
    ]
    assert call.agent.turns == []
    assert silence_after_the_caller(call) <= DEAD_AIR_MS


# -- keep-alives: the filler is not the last word while a turn is being answered ------------

HOLD = "I'm sorry, I'm having trouble right now. Please hold on a moment."


def test_a_hung_agent_gets_the_filler_keepalives_then_its_fallback_never_2_s_of_silence() -> None:
    # The agent's turn budget (8 s) runs out and its fallback chain says the "hold" tier.
    call = run_call(asked_and_answered, replies=[[Think(8000), HOLD]])

    assert call.twilio.heard() == [
        "One moment.",
        KEEPALIVE,
        KEEPALIVE,
        "I'm sorry, I'm having trouble right now.",
        "Please hold on a moment.",
    ]
    assert call.turns[0].heard == f"One moment. {KEEPALIVE} {KEEPALIVE} {HOLD}"
    assert silence_after_the_caller(call) <= DEAD_AIR_MS


@pytest.mark.parametrize("most", [0, 1, 3])
def test_keepalives_stop_at_the_dialplans_limit(most: int) -> None:
    plan = line(call={"max_keepalives": most})
    call = run_call(asked_and_answered, dialplan=plan, replies=[[Think(20000), "Found it."]])

    assert call.twilio.heard() == ["One moment.", *[KEEPALIVE] * most, "Found it."]


def test_a_reply_ready_during_a_keepalive_plays_right_after_it_uncut() -> None:
    # Ready 4.7 s after the last word: the keep-alive (from 3.6 s, 2.1 s long) is on the line.
    call = run_call(asked_and_answered, replies=[[Think(4000), "It ships today."]])

    keepalive, reply = call.twilio.played[1:]
    assert [keepalive.text, reply.text] == [KEEPALIVE, "It ships today."]
    assert not keepalive.cut
    assert reply.start_ms == keepalive.end_ms


def test_no_keepalive_once_the_reply_is_speaking() -> None:
    # The reply starts after the filler and talks for longer than the keep-alive wait.
    reply = "It ships today. It should arrive on Friday before noon. Anything else I can do?"
    call = run_call(asked_and_answered, replies=[[Think(2000), reply]])

    assert KEEPALIVE not in call.twilio.heard()
    assert call.twilio.heard()[0] == "One moment."


def test_keepalives_are_spoken_in_the_lines_language() -> None:
    plan = line(recognition={"language": "es", "model": "base"})
    call = run_call(asked_and_answered, dialplan=plan, replies=[[Think(5000), "Ya está."]])

    assert call.twilio.heard() == ["Un momento.", "Gracias por esperar, sigo con ello.", "Ya está."]


@pytest.mark.parametrize("guarded", [True, False])
def test_a_filler_that_gets_the_line_after_the_reply_began_is_dropped(guarded: bool) -> None:
    # A voice slow on both (a filler not in the cache): the reply's audio comes first.
    async def race() -> list[str]:
        voice = Voice()
        twilio = FakeTwilio(voice)
        floor_free = asyncio.Event()
        floor_free.set()
        tts = FakeTTS(voice, tts_ms=500)
        speaker = Speaker(tts, twilio, PlaybackTracker(), MediaClock(), floor_free)
        speaking, began = asyncio.Lock(), asyncio.Event()
        reply = speaker.say(1, "It ships today.", speaking, began.set)
        wanted = (lambda: not began.is_set()) if guarded else (lambda: True)
        await asyncio.gather(reply, speaker.say(1, "One moment.", speaking, wanted=wanted))
        return twilio.heard()

    heard = run_virtual(race())

    expected = ["It ships today."] if guarded else ["It ships today.", "One moment."]
    assert heard == expected
