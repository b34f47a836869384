"""`bridge wer --vad`: the voice-detector benchmark's scoring, on one short real clip."""

from __future__ import annotations

from bridge.cli import main
from bridge.dialplan.models import TurnSettings
from bridge.speech_eval.corpus import load_corpus
from bridge.speech_eval.vad_run import LEAD_S, TAIL_S, score_front_end, vad_lines

CLIP = "ps-cards-004"  # "five five", about a second


def _clip():
    return [c for c in load_corpus() if c.id == CLIP]


def test_a_clean_clip_is_one_timely_turn_and_the_silence_around_it_is_quiet():
    lines = vad_lines(_clip(), "clean", 10.0)
    score = score_front_end("webrtc", TurnSettings(), lines, "clean", 10.0)
    assert score.missed == 0 and score.false_per_min == 0.0
    assert score.onset_p50_ms is not None and 60 <= score.onset_p50_ms <= 300
    assert score.speech_lost < 0.05


def test_noise_that_drowns_the_voice_shows_as_lost_speech():
    lines = vad_lines(_clip(), "white", -10.0)  # noise 10 dB over the voice
    score = score_front_end("webrtc", TurnSettings(), lines, "white", -10.0)
    assert score.speech_lost > 0.5


def test_the_lines_hold_the_clip_between_stretches_of_noise_only():
    ((clean, noisy),) = vad_lines(_clip(), "white", 10.0).values()
    assert len(clean) == len(noisy) > (LEAD_S + TAIL_S) * 16_000
    assert clean[:16_000] == bytes(16_000) and noisy[:16_000] != bytes(16_000)


def test_the_command_prints_a_row_per_front_end_and_line(capsys):
    assert (
        main(
            [
                "--env-file",
                "/dev/null",
                "wer",
                "--vad",
                "webrtc",
                "--noise",
                "clean,white",
                "--snr",
                "10",
                "--only",
                CLIP,
            ]
        )
        == 0
    )
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| webrtc")]
    assert [row.split("|")[2].strip() for row in rows] == ["clean", "white 10 dB"]
