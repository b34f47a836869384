"""The loader: routing by number, and problems that name file, field and line."""

from __future__ import annotations

import argparse
import shutil
import textwrap
from pathlib import Path

import pytest

from bridge.config import Settings
from bridge.dialplan.check import add_dialplans_command
from bridge.dialplan.loader import (
    BUILTIN_DEFAULT,
    DialplanError,
    Problem,
    check_dialplans,
    load_dialplans,
)
from bridge.dialplan.models import CsvOrders

SHIPPED = Path(__file__).resolve().parents[2] / "dialplans"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def only_problem(folder: Path) -> Problem:
    with pytest.raises(DialplanError) as caught:
        load_dialplans(folder)
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


def test_shipped_dialplans_load_and_route_by_number() -> None:
    dialplans = load_dialplans(SHIPPED)
    assert {d.name for d in dialplans} == {"acme", "cedar"}
    assert dialplans.for_number("+15555550200").name == "cedar"
    assert dialplans.for_number("+15555550100").name == "acme"
    assert dialplans.for_number("+19995550000").name == "acme"  # acme is the default


def test_shipped_dialplans_check_clean() -> None:
    assert check_dialplans(SHIPPED) == []


def test_relative_order_path_resolves_against_the_yaml_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text("order_id,status\n1234,shipped\n")
    write(tmp_path, "shop.yaml", "name: shop\norders: {type: csv, path: data/orders.csv}\n")
    (dialplan,) = load_dialplans(tmp_path)
    assert isinstance(dialplan.orders, CsvOrders)
    assert dialplan.orders.path == (tmp_path / "data" / "orders.csv").resolve()
    assert dialplan.source == tmp_path / "shop.yaml"


def test_missing_order_file_is_a_problem_on_its_line(tmp_path: Path) -> None:
    write(tmp_path, "shop.yaml", "name: shop\norders:\n  type: csv\n  path: nowhere.csv\n")
    problem = only_problem(tmp_path)
    assert (problem.field, problem.line) == ("orders.path", 4)
    assert "no such file" in problem.message


def test_invalid_department_target_names_file_field_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "shop.yaml",
        """
        name: shop
        departments:
          support:
            target: "+15555550120"
          sales:
            synonyms: [buy]
            target: "call bob"
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.file, problem.field, problem.line) == (path, "departments.sales.target", 7)
    assert str(problem).startswith(f"{path}:7: departments.sales.target: ")


def test_unknown_key_is_an_error_on_the_key_line(tmp_path: Path) -> None:
    write(tmp_path, "shop.yaml", "name: shop\ngreting: hi\n")
    problem = only_problem(tmp_path)
    assert (problem.field, problem.line, problem.message) == ("greting", 2, "unknown key")


def test_unknown_key_inside_order_backend_skips_the_union_tag(tmp_path: Path) -> None:
    write(tmp_path, "shop.yaml", "name: shop\norders:\n  type: http\n  url: http://x\n  tls: 1\n")
    problem = only_problem(tmp_path)
    assert (problem.field, problem.line) == ("orders.tls", 5)


def test_busy_policy_is_set_in_the_call_block(tmp_path: Path) -> None:
    write(tmp_path, "shop.yaml", "name: shop\ncall:\n  busy_policy: queue\n  queue_limit: 3\n")
    (dialplan,) = load_dialplans(tmp_path)
    assert (dialplan.call.busy_policy, dialplan.call.queue_limit) == ("queue", 3)


def test_busy_policy_under_agent_is_an_unknown_key(tmp_path: Path) -> None:
    write(tmp_path, "shop.yaml", "name: shop\nagent:\n  busy_policy: queue\n")
    problem = only_problem(tmp_path)
    assert (problem.field, problem.line, problem.message) == (
        "agent.busy_policy",
        3,
        "unknown key",
    )


def test_missing_required_field_is_placed_on_its_parent(tmp_path: Path) -> None:
    write(tmp_path, "shop.yaml", "name: shop\ndepartments:\n  sales:\n    synonyms: [buy]\n")
    problem = only_problem(tmp_path)
    assert (problem.field, problem.line) == ("departments.sales.target", 3)
    assert "required" in problem.message


def test_unquoted_phone_number_gets_a_quoting_hint(tmp_path: Path) -> None:
    write(tmp_path, "shop.yaml", "name: shop\nnumbers:\n  - '+15555550100'\n  - +15555550101\n")
    problem = only_problem(tmp_path)
    assert (problem.field, problem.line) == ("numbers.1", 4)
    assert "quotes" in problem.message


def test_yaml_syntax_error_reports_its_line(tmp_path: Path) -> None:
    write(tmp_path, "shop.yaml", "name: shop\ndepartments:\n  sales: [unclosed\ngoodbye: bye\n")
    problem = only_problem(tmp_path)
    assert problem.line is not None and problem.line >= 3
    assert problem.message.startswith("YAML syntax")


def test_dtmf_key_to_unknown_department_is_placed_on_the_key(tmp_path: Path) -> None:
    write(
        tmp_path,
        "shop.yaml",
        """
        name: shop
        departments:
          sales: {target: "+15555550110"}
        dtmf:
          keys:
            1: {transfer: sales}
            2: {transfer: billing}
        """,
    )
    problem = only_problem(tmp_path)
    assert (problem.field, problem.line) == ("dtmf.keys.2.transfer", 7)
    assert "billing" in problem.message


def test_number_claimed_by_two_files_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", 'name: a\nnumbers: ["+15555550100"]\n')
    second = write(tmp_path, "b.yaml", 'name: b\nnumbers: ["+15555550199",\n  "+15555550100"]\n')
    problem = only_problem(tmp_path)
    assert (problem.file, problem.field, problem.line) == (second, "numbers.1", 3)
    assert "a.yaml" in problem.message


def test_two_defaults_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\ndefault: true\n")
    write(tmp_path, "b.yaml", "name: b\n\ndefault: true\n")
    problem = only_problem(tmp_path)
    assert (problem.file.name, problem.field, problem.line) == ("b.yaml", "default", 3)


def test_every_problem_in_every_file_is_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\nvoice: {speed: 9}\n")
    write(tmp_path, "b.yaml", "- just\n- a list\n")
    problems = check_dialplans(tmp_path)
    assert [(p.file.name, p.field) for p in problems] == [("a.yaml", "voice.speed"), ("b.yaml", "")]


def test_routing_without_a_default(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", 'name: a\nnumbers: ["+15555550100"]\n')
    assert load_dialplans(tmp_path).for_number("+15555550999").name == "a"  # the only one
    write(tmp_path, "b.yaml", 'name: b\nnumbers: ["+15555550200"]\n')
    dialplans = load_dialplans(tmp_path)
    assert dialplans.for_number("+15555550200").name == "b"
    assert dialplans.for_number("+15555550999") is BUILTIN_DEFAULT


def test_empty_folder_serves_the_builtin_default(tmp_path: Path) -> None:
    assert load_dialplans(tmp_path).for_number("+15555550100") is BUILTIN_DEFAULT


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bridge")
    add_dialplans_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args, Settings(DIALPLANS_DIR=SHIPPED))


def test_check_command_prints_ok_for_the_shipped_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["dialplans", "check"]) == 0
    assert capsys.readouterr().out.strip() == "ok: 2 dialplans"


def test_check_command_prints_each_problem_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(SHIPPED, tmp_path / "plans")
    acme = tmp_path / "plans" / "acme.yaml"
    acme.write_text(acme.read_text().replace("type: csv", "type: csv\n  sheet: 2"))
    assert run_cli(["dialplans", "check", "--dir", str(tmp_path / "plans")]) == 1
    line = next(n for n, text in enumerate(acme.read_text().splitlines(), 1) if "sheet" in text)
    assert capsys.readouterr().out.strip() == f"{acme}:{line}: orders.sheet: unknown key"


def test_check_reports_every_mistake_in_one_pass_even_beside_other_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing order file, a second default and a number served twice are each reported
    next to a file's other mistakes, not only once those are fixed."""
    first = write(tmp_path, "a.yaml", 'name: a\ndefault: true\nnumbers: ["+15555550100"]\n')
    second = write(
        tmp_path,
        "b.yaml",
        """
        name: b
        default: true
        numbers: ["+15555550100"]
        greting: hi
        orders: {type: csv, path: nowhere.csv}
        """,
    )
    assert run_cli(["dialplans", "check", "--dir", str(tmp_path)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        f"{second}:4: greting: unknown key",
        f"{second}:5: orders.path: no such file: {tmp_path / 'nowhere.csv'}",
        f"{second}:3: numbers.0: +15555550100 is already served by {first}",
        f"{second}:2: default: only one dialplan may be the default; {first} already is",
    ]


def test_a_file_with_a_broken_orders_block_reports_that_block_only(tmp_path: Path) -> None:
    write(tmp_path, "shop.yaml", "name: shop\norders: {type: csv}\n")
    problem = only_problem(tmp_path)
    assert (problem.field, problem.line) == ("orders.path", 2)
    assert "required" in problem.message


def test_after_call_fields_must_be_a_json_schema_of_an_object(tmp_path: Path) -> None:
    write(tmp_path, "shop.yaml", "name: shop\nafter_call:\n  fields: {type: objekt}\n")
    problem = only_problem(tmp_path)
    assert (problem.field, problem.line) == ("after_call.fields", 3)
    assert "not a valid JSON Schema" in problem.message
    write(tmp_path, "shop.yaml", "name: shop\nafter_call:\n  fields: {type: string}\n")
    assert "must be the schema of an object" in only_problem(tmp_path).message


def test_a_warm_department_with_hold_music(tmp_path: Path) -> None:
    write(
        tmp_path,
        "shop.yaml",
        """
        name: shop
        departments:
          sales:
            target: "+15555550110"
            transfer: warm
            hold_music_url: https://example.com/hold.xml
        """,
    )
    (dialplan,) = load_dialplans(tmp_path)
    sales = dialplan.departments["sales"]
    assert (sales.transfer, sales.hold_music_url, sales.accept_timeout_s) == (
        "warm",
        "https://example.com/hold.xml",
        8,
    )
