"""The unsure threshold's calibration: each cut scored by wrong turns caught and right ones
questioned, the best cut the one that separates them most."""

from __future__ import annotations

from bridge.speech_eval.calibrate import calibrate, render_calibration
from bridge.speech_eval.run import Heard, Score


def _score(noise: str, turns: list[tuple[float, bool]]) -> Score:
    heard = [
        Heard(clip=f"c{i}", said="x", heard="x", ms=1, cpu_ms=1, confidence=c, right=ok)
        for i, (c, ok) in enumerate(turns)
    ]
    return Score(
        model="m", setting="s", noise=noise, wer_human=None, wer_tts=None, digits_exact=None,
        routed=None, p50_ms=1, p95_ms=1, cpu_p50_ms=1, turns=len(heard), heard=heard,
    )  # fmt: skip


def test_the_best_cut_lies_between_wrong_and_right_confidences() -> None:
    clean = _score("clean", [(0.9, True), (0.8, True), (0.7, True), (0.42, False)])
    noisy = _score("white", [(0.62, True), (0.52, False), (0.33, False), (0.58, True)])
    whole = calibrate([clean, noisy])
    assert (whole.right, whole.wrong) == (5, 3)
    assert whole.best.threshold == 0.55
    assert (whole.best.wrong_caught, whole.best.right_questioned) == (1.0, 0.0)
    assert calibrate([clean, noisy], "clean").best.threshold == 0.45


def test_read_speech_is_right_only_word_for_word() -> None:
    score = _score("clean", [])
    score.heard = [
        Heard(clip="a", said="go forward ten meters", heard="Go forward, 10 meters.", ms=1,
              cpu_ms=1, confidence=0.9),
        Heard(clip="b", said="seven of clubs", heard="Seven of close.", ms=1, cpu_ms=1,
              confidence=0.4),
    ]  # fmt: skip
    table = calibrate([score])
    assert (table.right, table.wrong) == (1, 1)
    assert "best separation" in render_calibration([score])
