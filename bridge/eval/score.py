"""What a scenario's calls showed, as figures: the `bridge eval` table."""

from __future__ import annotations

import re

from pydantic import BaseModel

from bridge.eval.scenario import Scenario
from bridge.sim.report import CallReport
from bridge.sim.sounds import PAUSE
from bridge.speech.pool import PoolStats

DEAD_AIR_MS = 2000
ANSWERED = ("say", "audio", "keys", "interrupt")
SPLIT = ("endpointing", "stt", "agent", "first_media")
MIN_SHARED = 0.3  # of a heard turn's words, found in the line it is paired with


class Transcript(BaseModel):
    said: str
    heard: list[str]  # the bridge's caller turns while this line was the latest


class ScenarioScore(BaseModel):
    name: str
    calls: int
    statuses: list[str]
    # End of a caller's line (its last voiced frame) -> first agent audio, in ms; lines
    # answered early or heard as two turns left out (their reply answered a part).
    replies_ms: list[float]
    pause_lines: int  # lines with a "[pause Nms]" inside
    cut_mid_thought: int  # of those, answered (or cleared) before their last word
    answered_early: int  # any line answered before its last word
    overlays: int  # coughs, noise, backchannels over the agent
    false_barge_ins: int  # of those, the ones that cut the agent (a `clear`)
    resumed: int  # of those cut, the ones where the agent came back unprompted
    # Lines after which the caller heard nothing for over 2 s before or inside the reply
    # (the call's last line excepted: it may end in a transfer).
    dead_air: int
    longest_silence_ms: int | None  # the longest of those silences, last lines included
    phantom_turns: int  # caller turns the bridge heard that match no line (noise, babble)
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
    phantom_turns: int
    calls: int
    # The turn-end model's pool over the whole run (None: no model): its cost per call.
    turn_model: PoolStats | None = None


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
        longest_silence_ms=None,
        phantom_turns=0,
        bridge_ms_p50={},
        transcripts=[],
    )
    turns = [t for report in reports for t in report.turns if t.source == "speech"]
    for stage in SPLIT:
        values = [getattr(t.latency_ms, stage) for t in turns]
        result.bridge_ms_p50[stage] = percentile([v for v in values if v is not None], 0.5)
    for report in reports:
        # A turn whose words never came (the recogniser failed) was heard as nothing.
        heard = [t.caller for t in report.turns if t.source == "speech" and t.caller]
        said = [line for line in report.caller_lines if line.kind in ("say", "audio")]
        lines = [Transcript(said=line.text, heard=[]) for line in said]
        result.phantom_turns += len(_attach(lines, heard))
        result.transcripts.extend(lines)
        says = [(line, t) for line, t in zip(said, lines, strict=True) if line.kind == "say"]
        for (line, transcript), has_pause in zip(says, pause_specs, strict=False):
            result.pause_lines += has_pause
            # Answered before its last word, or heard as more than one turn.
            cut = line.answered_early or len(transcript.heard) > 1
            result.cut_mid_thought += has_pause and cut
        # A line heard as two turns was answered from its first part: no reply latency.
        split = {id(line) for line, t in zip(said, lines, strict=True) if len(t.heard) > 1}
        answered = [line for line in report.caller_lines if line.kind in ANSWERED]
        for index, line in enumerate(answered):
            result.answered_early += line.answered_early
            whole = not line.answered_early and id(line) not in split
            if line.reply_ms is not None and whole and line.kind != "keys":
                result.replies_ms.append(line.reply_ms)
            last = index == len(answered) - 1
            silent = line.reply_ms is None or line.reply_ms > DEAD_AIR_MS
            if (silent or (line.silence_ms or 0) > DEAD_AIR_MS) and not last:
                result.dead_air += 1
            if line.silence_ms is not None:
                result.longest_silence_ms = max(result.longest_silence_ms or 0, line.silence_ms)
        for line in report.caller_lines:
            if line.kind == "overlay":
                result.overlays += 1
                result.false_barge_ins += line.clear_ms is not None
                result.resumed += bool(line.resumed)
    return result


def _words(text: str) -> set[str]:
    """Lower-case words, digit strings split into digits ("4572" and "4 5 7 2" alike)."""
    found = re.findall(r"[a-z']+|\d", PAUSE.sub(" ", text.lower()))
    return set(found)


def _attach(transcripts: list[Transcript], heard: list[str]) -> list[str]:
    """Pairs each heard turn, in order, with the said line (the current or the next one) it
    shares most words with; returns the turns that match no line (babble, a cough)."""
    unmatched: list[str] = []
    current = 0
    for text in heard:
        words = _words(text)
        best, best_share = None, 0.0
        for index in range(current, min(current + 2, len(transcripts))):
            share = len(words & _words(transcripts[index].said)) / max(1, len(words))
            if share > best_share:
                best, best_share = index, share
        if best is None or best_share < MIN_SHARED:
            unmatched.append(text)
            continue
        transcripts[best].heard.append(text)
        current = best
    return unmatched


def table(scores: list[ScenarioScore], turn_model: PoolStats | None = None) -> EvalTable:
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
        phantom_turns=sum(s.phantom_turns for s in scores),
        calls=sum(s.calls for s in scores),
        turn_model=turn_model,
    )


def render(result: EvalTable) -> str:
    header = (
        f"{'scenario':<30} {'calls':>5} {'p50 ms':>7} {'p95 ms':>7} {'cut':>5} "
        f"{'barge':>5} {'resumed':>7} {'dead>2s':>7} {'phantom':>7}"
    )
    rows = [header, "-" * len(header)]
    for s in result.scenarios:
        rows.append(
            f"{s.name:<30} {s.calls:>5} {_ms(percentile(s.replies_ms, 0.5)):>7} "
            f"{_ms(percentile(s.replies_ms, 0.95)):>7} "
            f"{f'{s.cut_mid_thought}/{s.pause_lines}':>5} "
            f"{f'{s.false_barge_ins}/{s.overlays}':>5} {s.resumed:>7} {s.dead_air:>7} "
            f"{s.phantom_turns:>7}"
        )
    rows.append("-" * len(header))
    rows.append(
        f"{'all':<30} {'':>5} {_ms(result.reply_ms_p50):>7} {_ms(result.reply_ms_p95):>7} "
        f"{f'{result.cut_mid_thought}/{result.pause_lines}':>5} "
        f"{result.false_barge_ins:>5} {result.resumed:>7} {result.dead_air:>7} "
        f"{result.phantom_turns:>7}"
    )
    rows.append("")
    model = result.turn_model
    if model is not None:
        rows.append(
            f"turn model: {model.completed} verdicts in {result.calls} calls "
            f"({model.completed / max(1, result.calls):.1f} a call), run p50 "
            f"{model.run_p50_ms:.0f} ms, p95 {model.run_p95_ms:.0f} ms, refused {model.rejected}"
        )
    for s in result.scenarios:
        split = ", ".join(f"{k} {_ms(v)}" for k, v in s.bridge_ms_p50.items())
        rows.append(
            f"  {s.name}: bridge medians (ms): {split}; longest silence heard "
            f"{_ms(s.longest_silence_ms)}"
        )
    rows.append(
        "p50/p95: end of a caller line -> first agent audio; dead>2s: lines followed by over "
        "2 s without agent audio, before or inside the reply; cut: lines with a pause answered "
        "before their last word or heard as two turns; barge: overlays (coughs, noise, mm-hmm) "
        "that cut the agent; phantom: turns heard that match no line said"
    )
    for s in result.scenarios:
        for t in s.transcripts:
            rows.append(f"  {s.name}: said {t.said!r} -> heard {t.heard}")
    return "\n".join(rows)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
