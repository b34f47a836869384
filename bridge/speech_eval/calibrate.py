"""Where the recogniser's confidence separates right transcripts from wrong ones.

A turn below `UNSURE_BELOW` (speech/base.py) is checked with the caller before the agent ends
or transfers the call. Set too low, wrong words are acted on; too high, right ones are asked
about. Here every turn `bridge wer` heard is right or wrong (an order id or department that
came out right; read speech heard word for word after normalising), and each threshold is
scored by the wrong turns it catches and the right turns it needlessly questions.
"""

from __future__ import annotations

from pydantic import BaseModel

from bridge.speech_eval.run import Heard, Score
from bridge.speech_eval.wer import wer

THRESHOLDS = tuple(round(0.30 + 0.05 * step, 2) for step in range(12))  # 0.30 ... 0.85


class Cut(BaseModel):
    threshold: float
    wrong_caught: float  # wrong turns below it (checked first): higher is better
    right_questioned: float  # right turns below it (a needless question): lower is better

    @property
    def separation(self) -> float:
        """Youden's J: caught minus needlessly questioned (0 at random, 1 when perfect)."""
        return self.wrong_caught - self.right_questioned


class Calibration(BaseModel):
    noise: str
    right: int
    wrong: int
    cuts: list[Cut]

    @property
    def best(self) -> Cut:
        return max(self.cuts, key=lambda cut: (round(cut.separation, 6), -cut.threshold))


def heard_right(heard: Heard) -> bool:
    if heard.right is not None:
        return heard.right
    return wer([(heard.said, heard.heard)]) == 0


def calibrate(scores: list[Score], noise: str = "all") -> Calibration:
    """Every threshold over the turns of `scores` heard on line `noise` ("all": every line)."""
    turns = [
        (h.confidence, heard_right(h))
        for score in scores
        if noise in ("all", score.noise)
        for h in score.heard
    ]
    right = [c for c, ok in turns if ok]
    wrong = [c for c, ok in turns if not ok]
    cuts = [
        Cut(
            threshold=t,
            wrong_caught=sum(c < t for c in wrong) / max(len(wrong), 1),
            right_questioned=sum(c < t for c in right) / max(len(right), 1),
        )
        for t in THRESHOLDS
    ]
    return Calibration(noise=noise, right=len(right), wrong=len(wrong), cuts=cuts)


def render_calibration(scores: list[Score]) -> str:
    noises = ["all", *dict.fromkeys(score.noise for score in scores)]
    tables = [calibrate(scores, noise) for noise in noises]
    rows = [
        "| unsure below | " + " | ".join(f"{t.noise}: wrong caught / right asked" for t in tables),
        "|---|" + "---|" * len(tables),
    ]
    for i, threshold in enumerate(THRESHOLDS):
        cells = [
            f"{100 * t.cuts[i].wrong_caught:.0f}% / {100 * t.cuts[i].right_questioned:.0f}%"
            for t in tables
        ]
        rows.append(f"| {threshold:.2f} | " + " | ".join(cells) + " |")
    summary = ", ".join(
        f"{t.noise} {t.best.threshold:.2f} ({t.wrong} wrong, {t.right} right turns)" for t in tables
    )
    return "\n".join([*rows, "", f"best separation (Youden's J): {summary}"])
