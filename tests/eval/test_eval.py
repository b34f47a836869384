"""`bridge eval`: scenarios load and validate, the table counts what the calls showed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.eval.runner import bridges, run_scenario
from bridge.eval.scenario import ScenarioError, load_scenario, shipped_scenarios
from bridge.eval.score import score, table
from bridge.eval.turn_check import check_turn_model
from bridge.records import TurnRecord
from bridge.sim.report import CallerLine, CallReport
from bridge.sim.sounds import split_pauses
from bridge.speech.factory import SpeechModels
from tests.support.bridges import bridge_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_scenario_loads():
    paths = shipped_scenarios()
    assert len(paths) >= 6
    for path in paths:
        assert load_scenario(path).steps


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("name: x\nsteps:\n  - say: hi\n    shout: loud\n", "shout"),
        ("name: x\nsteps:\n  - say: hi\n    keys: '1'\n", "exactly one action"),
        ("name: x\nsteps:\n  - say: hi\nturns: {complete_ms: 5}\n", "complete_ms"),
        ("name: x\nsteps: []\n", "steps"),
        ("name: x\nfaults: {tts: broken}\nsteps:\n  - say: hi\n", "tts"),
        ("- just a list\n", "a scenario is a mapping"),
        ("name: x\nsteps: [\n", "scenario.yaml"),
    ],
)
def test_a_bad_scenario_is_refused_with_its_problem(tmp_path: Path, body: str, problem: str):
    with pytest.raises(ScenarioError, match=problem):
        load_scenario(write(tmp_path, body))


def test_a_pause_marker_splits_a_line_into_words_and_silence():
    assert split_pauses("My order is [pause 1200ms] 4 5 7 2.") == ["My order is", 1200, "4 5 7 2."]
    assert split_pauses("No pause here.") == ["No pause here."]


def test_the_table_counts_cuts_false_barge_ins_resumes_and_dead_air(tmp_path: Path):
    scenario = load_scenario(
        write(
            tmp_path,
            "name: counted\nsteps:\n"
            "  - say: 'My order is [pause 1200ms] 4 5 7 2.'\n"
            "  - overlay: cough\n"
            "  - say: 'And the other one is [pause 800ms] 1 2 3 4.'\n"
            "  - overlay: noise\n"
            "  - say: 'Bye.'\n",
        )
    )
    report = CallReport(
        call_sid="CA1",
        status="completed",
        caller_lines=[
            CallerLine(kind="say", text="a", reply_ms=420.0),
            CallerLine(kind="overlay", text="cough", clear_ms=0.0, resumed=True),
            CallerLine(kind="say", text="b", reply_ms=300.0, answered_early=True, silence_ms=2600),
            CallerLine(kind="overlay", text="noise", clear_ms=0.0, resumed=False),
            CallerLine(kind="say", text="c", reply_ms=2500.0),
        ],
        turns=[TurnRecord(index=0, caller="heard a"), TurnRecord(index=1, caller="heard b")],
    )
    result = score(scenario, [report])
    assert (result.pause_lines, result.cut_mid_thought) == (2, 1)
    assert (result.overlays, result.false_barge_ins, result.resumed) == (2, 2, 1)
    assert result.replies_ms == [420.0, 2500.0]  # the line answered early is no latency
    # b: a quick reply, then 2.6 s of nothing inside it; c: 2.5 s, but on the call's last line
    assert result.dead_air == 1
    assert result.longest_silence_ms == 2600
    assert [t.heard for t in result.transcripts] == [["heard a"], ["heard b"], []]
    assert table([result]).cut_mid_thought == 1


def test_a_line_heard_as_two_turns_was_cut_and_noise_heard_as_words_is_a_phantom(tmp_path: Path):
    scenario = load_scenario(
        write(
            tmp_path,
            "name: split\nsteps:\n"
            "  - say: 'My order number is [pause 1200ms] 4 5 7 2.'\n"
            "  - say: 'Put me through to billing.'\n",
        )
    )
    report = CallReport(
        call_sid="CA2",
        caller_lines=[
            CallerLine(kind="say", text="My order number is [pause 1200ms] 4 5 7 2.", reply_ms=900),
            CallerLine(kind="say", text="Put me through to billing.", reply_ms=800),
        ],
        turns=[
            TurnRecord(index=0, caller="My order number is..."),
            TurnRecord(index=1, caller="4572."),
            TurnRecord(index=2, caller="I told them no, hard with the media."),
            TurnRecord(index=3, caller="Put me through to billing."),
        ],
    )
    result = score(scenario, [report])
    assert (result.pause_lines, result.cut_mid_thought, result.phantom_turns) == (1, 1, 1)
    assert result.replies_ms == [800]  # the split line's reply answered its first part
    assert [t.heard for t in result.transcripts] == [
        ["My order number is...", "4572."],
        ["Put me through to billing."],
    ]


def test_a_turn_whose_words_never_came_is_heard_as_nothing_not_as_a_phantom(tmp_path: Path):
    scenario = load_scenario(write(tmp_path, "name: deaf\nsteps:\n  - say: 'Hello.'\n"))
    report = CallReport(
        call_sid="CA3",
        caller_lines=[CallerLine(kind="say", text="Hello.", reply_ms=700)],
        # The recogniser failed: the turn was answered with the not-heard phrase.
        turns=[TurnRecord(index=0, caller="", agent="Sorry, I didn't catch that.")],
    )
    result = score(scenario, [report])
    assert result.phantom_turns == 0
    assert [t.heard for t in result.transcripts] == [[]]


@pytest.mark.models
async def test_a_line_with_a_pause_and_a_cough_runs_through_the_real_server(
    tmp_path: Path, speech: SpeechModels
):
    scenario = load_scenario(
        write(
            tmp_path,
            "name: small\nsteps:\n"
            '  - say: "My order number is [pause 1000ms] 4 5 7 2."\n'
            "  - overlay: cough\n    after_ms: 500\n",
        )
    )
    async with bridges(bridge_settings(tmp_path), speech) as pool:
        result = await run_scenario(scenario, pool)
    assert result.calls == 1 and result.pause_lines == 1 and result.overlays == 1
    (line,) = result.transcripts
    assert len(line.heard) == 1 and "4572" in line.heard[0].replace(" ", "")


@pytest.mark.models
async def test_the_turn_model_check_judges_every_clip(speech: SpeechModels):
    assert speech.turn_model is not None
    check = await check_turn_model(speech.turn_model, speech.caller_tts)
    assert check.complete.clips == check.cut_mid_sentence.clips == 20
    assert all(0 <= p <= 1 for p in check.complete.probabilities)


@pytest.mark.models
async def test_an_llm_scenario_talks_to_the_fake_llm_at_its_pace(
    tmp_path: Path, speech: SpeechModels
):
    scenario = load_scenario(
        write(
            tmp_path,
            "name: llm\nagent: llm\nllm: {first_token_ms: 100}\nsteps:\n"
            '  - say: "It\'s order 4 5 7 2."\n',
        )
    )
    async with bridges(bridge_settings(tmp_path), speech) as pool:
        result = await run_scenario(scenario, pool)
        assert pool.llm is not None and pool.llm.requests
    assert pool.llm.pace.first_token_s == 0.1
    (line,) = result.transcripts
    assert "4572" in "".join(line.heard).replace(" ", "")


@pytest.mark.models
async def test_a_hung_voice_leaves_no_dead_air_through_the_real_server(
    tmp_path: Path, speech: SpeechModels
):
    scenario = load_scenario(
        write(
            tmp_path,
            "name: hung-voice\nfaults: {tts: hang}\nsteps:\n"
            '  - say: "It\'s order 4 5 7 2."\n'
            '  - say: "Thanks."\n',
        )
    )
    async with bridges(bridge_settings(tmp_path), speech) as pool:
        result = await run_scenario(scenario, pool)
        assert pool.vendor is not None and "speech" in pool.vendor.requests
        assert pool.vendor.tts_fault == "none"  # only for the scenario's calls
    assert result.calls == 1 and result.dead_air == 0
    assert len(result.replies_ms) == 2
