from bridge.audio.phone import ULAW_FRAME, ULAW_SILENCE
from bridge.sim.line import PhoneLine


def test_mark_echoes_only_after_the_audio_before_it_has_played() -> None:
    line = PhoneLine()
    line.agent_media(b"\x00" * (ULAW_FRAME * 2))
    line.agent_mark("m1")
    assert line.tick().echoes == []
    assert line.tick().echoes == ["m1"]
    assert not line.agent_playing


def test_mark_with_nothing_buffered_echoes_at_once() -> None:
    line = PhoneLine()
    line.agent_mark("m1")
    assert line.tick().echoes == ["m1"]


def test_clear_drops_audio_and_flushes_every_pending_mark() -> None:
    line = PhoneLine()
    line.agent_media(b"\x00" * (ULAW_FRAME * 10))
    line.agent_mark("m1")
    line.agent_media(b"\x00" * (ULAW_FRAME * 10))
    line.agent_mark("m2")
    line.tick()
    line.clear()
    assert line.tick().echoes == ["m1", "m2"]
    assert not line.agent_playing


def test_caller_speech_goes_out_in_20ms_frames_then_silence() -> None:
    line = PhoneLine()
    line.speak(b"\x10\x00" * 200)  # 25 ms of PCM16 at 8 kHz
    first, second, third = line.tick(), line.tick(), line.tick()
    assert len(first.frame) == len(second.frame) == ULAW_FRAME
    assert first.frame != ULAW_SILENCE
    assert third.frame == ULAW_SILENCE
    assert line.now_ms == 60


def test_speak_returns_when_the_voiced_audio_ends_not_its_trailing_silence() -> None:
    line = PhoneLine()
    voiced = b"\x00\x10" * 800  # 100 ms of loud samples
    silence = b"\x00\x00" * 1600  # then 200 ms of silence
    assert line.speak(voiced + silence) == 100
    line.tick()
    assert line.speak(voiced) == 20 + 280 + 100  # after the 280 ms still queued


def test_the_longest_silence_runs_from_a_moment_to_the_last_agent_audio() -> None:
    line = PhoneLine()
    for _ in range(5):  # 100 ms of nothing
        line.tick()
    line.agent_media(b"\x00" * ULAW_FRAME * 2)  # 40 ms of a filler
    for _ in range(2 + 120):  # it plays, then 2.4 s of nothing
        line.tick()
    line.agent_media(b"\x00" * ULAW_FRAME)  # the answer
    for _ in range(60):  # and the line is quiet after it: not counted
        line.tick()

    assert line.longest_silence_ms(since_ms=0) == 2400
    assert line.longest_silence_ms(since_ms=line.now_ms) == 0
