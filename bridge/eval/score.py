"""What a scenario's calls showed, as figures: the `bridge eval` table."""

from __future__ import annotations

from pydantic import BaseModel

from bridge.eval.scenario import Scenario
from bridge.sim.report import CallReport

DEAD_AIR_MS = 2000
ANSWERED = ("say", "audio", "keys", "interrupt")
SPLIT = ("endpointing", "stt", "agent", "first_media")


class Transcript(BaseModel):
    said: str
    heard: list[str]  # the bridge's caller turns while this line was the latest


class ScenarioScore(BaseModel):
    name: str
    calls: int
    statuses: list[str]
    # End of a caller's line (its last voiced frame) -> first agent audio, in ms.
    replies_ms: list[float]
    pause_lines: int  # lines with a "[pause Nms]" inside
    cut_mid_thought: int  # of those, answered (or cleared) before their last word
    answered_early: int  # any line answered before its last word
    overlays: int  # coughs, noise, backchannels over the agent
    false_barge_ins: int  # of those, the ones that cut the agent (a `clear`)
    resumed: int  # of those cut, the ones where the agent came back unprompted
    dead_air: int  # lines with no agent audio within 2 s (the call's last line excepted)
    # The bridge's own split of its speech turns, medians in ms: the endpointing wait, then
    # from the end of the turn: transcript ready, agent's first words, first audio sent.
    bridge_ms_p50: dict[str, float | None]
    transcripts: list[Transcript]


class EvalTable(BaseModel):
    scenarios: list[ScenarioScore]
    reply_ms_p50: float | None
    reply_ms_p95: float | None
    pause_lines: int
    cut_mid_thought: int
    false_barge_ins: int
    resumed: int
    dead_air: int


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))], 1)


def score(scenario: Scenario, reports: list[CallReport]) -> ScenarioScore:
    pause_specs = [spec.has_pause for spec in scenario.steps if spec.say is not None]
    result = ScenarioScore(
        name=scenario.name,
        calls=len(reports),
        statuses=[report.status for report in reports],
        replies_ms=[],
        pause_lines=0,
        cut_mid_thought=0,
        answered_early=0,
        overlays=0,
        false_barge_ins=0,
        resumed=0,
        dead_air=0,
        bridge_ms_p50={},
        transcripts=[],
    )
    turns = [t for report in reports for t in report.turns if t.source == "speech"]
    for stage in SPLIT:
        values = [getattr(t.latency_ms, stage) for t in turns]
        result.bridge_ms_p50[stage] = percentile([v for v in values if v is not None], 0.5)
    for report in reports:
        says = [line for line in report.caller_lines if line.kind == "say"]
        for line, has_pause in zip(says, pause_specs, strict=False):
            result.pause_lines += has_pause
            result.cut_mid_thought += has_pause and line.answered_early
        answered = [line for line in report.caller_lines if line.kind in ANSWERED]
        for index, line in enumerate(answered):
            result.answered_early += line.answered_early
            if line.reply_ms is not None and not line.answered_early and line.kind != "keys":
                result.replies_ms.append(line.reply_ms)
            last = index == len(answered) - 1
            if (line.reply_ms is None or line.reply_ms > DEAD_AIR_MS) and not last:
                result.dead_air += 1
        for line in report.caller_lines:
            if line.kind == "overlay":
                result.overlays += 1
                result.false_barge_ins += line.clear_ms is not None
                result.resumed += bool(line.resumed)
        heard = [turn.caller for turn in report.turns if turn.source == "speech"]
        said = [line.text for line in report.caller_lines if line.kind in ("say", "audio")]
        lines = [Transcript(said=text, heard=[]) for text in said]
        _attach(lines, heard)
        result.transcripts.extend(lines)
    return result


def _attach(transcripts: list[Transcript], heard: list[str]) -> None:
    """Pairs heard turns with said lines in order; extra turns (a line heard as two) go
    with the line before them."""
    if not transcripts:
        return
    for index, text in enumerate(heard):
        transcripts[min(index, len(transcripts) - 1)].heard.append(text)


def table(scores: list[ScenarioScore]) -> EvalTable:
    replies = [ms for s in scores for ms in s.replies_ms]
    return EvalTable(
        scenarios=scores,
        reply_ms_p50=percentile(replies, 0.5),
        reply_ms_p95=percentile(replies, 0.95),
        pause_lines=sum(s.pause_lines for s in scores),
        cut_mid_thought=sum(s.cut_mid_thought for s in scores),
        false_barge_ins=sum(s.false_barge_ins for s in scores),
        resumed=sum(s.resumed for s in scores),
        dead_air=sum(s.dead_air for s in scores),
    )


def render(result: EvalTable) -> str:
    header = (
        f"{'scenario':<30} {'calls':>5} {'p50 ms':>7} {'p95 ms':>7} {'cut':>5} "
        f"{'barge':>5} {'resumed':>7} {'dead>2s':>7}"
    )
    rows = [header, "-" * len(header)]
    for s in result.scenarios:
        rows.append(
            f"{s.name:<30} {s.calls:>5} {_ms(percentile(s.replies_ms, 0.5)):>7} "
            f"{_ms(percentile(s.replies_ms, 0.95)):>7} "
            f"{f'{s.cut_mid_thought}/{s.pause_lines}':>5} "
            f"{f'{s.false_barge_ins}/{s.overlays}':>5} {s.resumed:>7} {s.dead_air:>7}"
        )
    rows.append("-" * len(header))
    rows.append(
        f"{'all':<30} {'':>5} {_ms(result.reply_ms_p50):>7} {_ms(result.reply_ms_p95):>7} "
        f"{f'{result.cut_mid_thought}/{result.pause_lines}':>5} "
        f"{result.false_barge_ins:>5} {result.resumed:>7} {result.dead_air:>7}"
    )
    rows.append("")
    for s in result.scenarios:
        split = ", ".join(f"{k} {_ms(v)}" for k, v in s.bridge_ms_p50.items())
        rows.append(f"  {s.name}: bridge medians (ms): {split}")
    rows.append(
        "p50/p95: end of a caller line -> first agent audio; cut: lines with a pause answered "
        "before their last word; barge: overlays (coughs, noise, mm-hmm) that cut the agent"
    )
    for s in result.scenarios:
        for t in s.transcripts:
            rows.append(f"  {s.name}: said {t.said!r} -> heard {t.heard}")
    return "\n".join(rows)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
