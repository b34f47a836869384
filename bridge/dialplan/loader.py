"""Load every dialplan YAML in a folder, and say exactly where each mistake is.

Each problem names the file, the field path (`departments.sales.target`) and the YAML line,
because the person reading it is an admin with the file open in an editor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import Field, TypeAdapter, ValidationError
from yaml.nodes import MappingNode, Node, SequenceNode

from bridge.addresses import entry_rank
from bridge.dialplan.models import CsvOrders, Dialplan, OrderBackend, SqliteOrders
from bridge.dialplan.voice_settings import LanguageVoice, VoiceSettings

# Serves calls when the folder holds no dialplan at all.
BUILTIN_DEFAULT = Dialplan(name="builtin-default", default=True)
# The `orders:` block alone, to check its file even when the rest of the dialplan is wrong.
_ORDERS = TypeAdapter(Annotated[OrderBackend, Field(discriminator="type")])
_WithModel = TypeVar("_WithModel", VoiceSettings, LanguageVoice)


@dataclass(frozen=True)
class Problem:
    """One mistake in one dialplan file."""

    file: Path
    line: int | None  # 1-based; None when the mistake has no single place
    field: str  # dotted path such as `departments.sales.target`; "" for the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.field or '(file)'}: {self.message}"


class DialplanError(ValueError):
    """The dialplans cannot be served; `problems` lists every mistake found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class _Claims:
    """What one file claims that another may contradict, read from the YAML as written: a file
    with other mistakes still shows its clashes (the mistakes are reported on their own)."""

    file: Path
    root: Node
    name: str | None
    default: bool
    numbers: tuple[str | None, ...]  # in the file's order; None where not a string

    @classmethod
    def read(cls, file: Path, data: dict[str, Any], root: Node) -> _Claims:
        name, numbers = data.get("name"), data.get("numbers")
        return cls(
            file,
            root,
            name if isinstance(name, str) else None,
            data.get("default") is True,
            tuple(n if isinstance(n, str) else None for n in numbers)
            if isinstance(numbers, list)
            else (),
        )


@dataclass(frozen=True)
class DialplanSet:
    """Every loaded dialplan, and which one answers a given `To` number."""

    dialplans: tuple[Dialplan, ...]

    def __iter__(self) -> Iterator[Dialplan]:
        return iter(self.dialplans)

    def __len__(self) -> int:
        return len(self.dialplans)

    def named(self, name: str) -> Dialplan | None:
        plans = (*self.dialplans, BUILTIN_DEFAULT)
        return next((plan for plan in plans if plan.name == name), None)

    def for_number(self, to: str) -> Dialplan:
        """The dialplan listing `to` (best match first: see `entry_rank`), else the default
        one, else the only one, else a built-in."""
        best, best_rank = None, 0
        for dialplan in self.dialplans:
            for entry in dialplan.numbers:
                rank = entry_rank(entry, to)
                if rank > best_rank:
                    best, best_rank = dialplan, rank
        if best is not None:
            return best
        for dialplan in self.dialplans:
            if dialplan.default:
                return dialplan
        if len(self.dialplans) == 1:
            return self.dialplans[0]
        return BUILTIN_DEFAULT


def load_dialplans(directory: Path) -> DialplanSet:
    """Every `*.yaml` in `directory`, validated together; DialplanError lists all problems."""
    dialplans, problems = _load_all(directory)
    if problems:
        raise DialplanError(problems)
    return DialplanSet(tuple(dialplans))


def check_dialplans(directory: Path) -> list[Problem]:
    """Every problem `load_dialplans` would raise, as a list (empty: all good)."""
    return _load_all(directory)[1]


def _load_all(directory: Path) -> tuple[list[Dialplan], list[Problem]]:
    if not directory.is_dir():
        return [], [Problem(directory, None, "", "dialplans folder not found")]
    dialplans: list[Dialplan] = []
    problems: list[Problem] = []
    claims: list[_Claims] = []
    for path in sorted(directory.glob("*.yaml")):
        dialplan, claim, file_problems = _load_file(path)
        problems += file_problems
        if dialplan is not None:
            dialplans.append(dialplan)
        if claim is not None:
            claims.append(claim)
    problems += _cross_file_problems(claims)
    return dialplans, problems


def _load_file(path: Path) -> tuple[Dialplan | None, _Claims | None, list[Problem]]:
    """The file's dialplan (None when it has any problem), what it claims, and its problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, None, [Problem(path, None, "", f"cannot read: {exc}")]
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return None, None, [Problem(path, line, "", f"YAML syntax: {exc}".splitlines()[0])]
    finally:
        loader.dispose()
    if root is None or not isinstance(data, dict):
        return None, None, [Problem(path, 1, "", "expected a mapping of dialplan settings")]
    data = _string_keys(data)
    problems = _dtmf_target_problems(path, data, root)
    dialplan: Dialplan | None = None
    try:
        dialplan = _resolve_paths(Dialplan.model_validate(data), path)
    except ValidationError as exc:
        for error in exc.errors():
            if error["loc"] == () and problems:
                continue  # the same mistake, already placed on its line above
            problems.append(_problem_from_error(path, root, error))
    problems += _order_file_problems(data, path, root)
    problems += _voice_file_problems(data, path, root)
    return None if problems else dialplan, _Claims.read(path, data, root), problems


def _string_keys(value: Any) -> Any:
    """YAML reads `0:` as an int; every key in a dialplan is a name, so read it as text."""
    if isinstance(value, dict):
        return {str(key): _string_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_string_keys(item) for item in value]
    return value


def _dtmf_target_problems(path: Path, data: dict[str, Any], root: Node) -> list[Problem]:
    """The model checks this too, but only for the whole dialplan; here it gets its line."""
    dtmf = data.get("dtmf")
    departments = data.get("departments")
    keys = dtmf.get("keys") if isinstance(dtmf, dict) else None
    if not isinstance(keys, dict):
        return []
    known = set(departments) if isinstance(departments, dict) else set()
    problems = []
    for key, action in keys.items():
        target = action.get("transfer") if isinstance(action, dict) else None
        if isinstance(target, str) and target not in known:
            loc = ("dtmf", "keys", key, "transfer")
            problems.append(
                Problem(
                    path,
                    _line_of(root, loc),
                    ".".join(loc),
                    f"unknown department {target!r} (known: {', '.join(sorted(known)) or 'none'})",
                )
            )
    return problems


def _problem_from_error(path: Path, root: Node, error: Any) -> Problem:
    loc = _yaml_loc(root, tuple(error["loc"]))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "string_type" and isinstance(error.get("input"), int):
        message += " (put quotes around it in the YAML, e.g. '+15555550100')"
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return Problem(path, _line_of(root, loc), ".".join(str(part) for part in loc), message)


def _yaml_loc(root: Node, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Drop the parts of a pydantic `loc` the YAML does not have (union tags, `[key]`)."""
    kept: list[str | int] = []
    node: Node | None = root
    for index, part in enumerate(loc):
        child = _child(node, part) if node is not None else None
        last = index == len(loc) - 1
        if child is not None:
            kept.append(part)
            node = child
        elif last and part != "[key]":
            kept.append(part)  # a missing key: name it, placed on its parent's line
    return tuple(kept)


def _line_of(root: Node, loc: tuple[str | int, ...]) -> int:
    """The 1-based line of the deepest node on `loc` (for a mapping entry: its key's line)."""
    node = root
    line = root.start_mark.line
    for part in loc:
        if isinstance(node, MappingNode):
            pair = next((p for p in node.value if str(p[0].value) == str(part)), None)
            if pair is None:
                break
            line = pair[0].start_mark.line
            node = pair[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line
        else:
            break
    return line + 1


def _child(node: Node, part: str | int) -> Node | None:
    if isinstance(node, MappingNode):
        return next((value for key, value in node.value if str(key.value) == str(part)), None)
    if isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


def _resolve_paths(dialplan: Dialplan, path: Path) -> Dialplan:
    orders = _resolved(dialplan.orders, path)
    voice = _beside(dialplan.voice, path)
    languages = {code: _beside(choice, path) for code, choice in voice.languages.items()}
    voice = voice.model_copy(update={"languages": languages})
    return dialplan.model_copy(update={"orders": orders, "voice": voice, "source": path})


def _beside(voice: _WithModel, path: Path) -> _WithModel:
    """A voice file named relative to the dialplan, as an absolute path."""
    if voice.model is None or voice.model.is_absolute():
        return voice
    return voice.model_copy(update={"model": (path.parent / voice.model).absolute()})


def _resolved(orders: OrderBackend | None, path: Path) -> OrderBackend | None:
    """Relative order files are relative to the YAML's folder, not to where the bridge runs."""
    if isinstance(orders, CsvOrders | SqliteOrders) and not orders.path.is_absolute():
        return orders.model_copy(update={"path": (path.parent / orders.path).resolve()})
    return orders


def _order_file_problems(data: dict[str, Any], path: Path, root: Node) -> list[Problem]:
    try:
        orders = _resolved(_ORDERS.validate_python(data.get("orders")), path)
    except ValidationError:
        return []  # no orders block, or a wrong one: reported with the file's other mistakes
    if isinstance(orders, CsvOrders | SqliteOrders) and not orders.path.is_file():
        loc = ("orders", "path")
        return [Problem(path, _line_of(root, loc), "orders.path", f"no such file: {orders.path}")]
    return []


def _voice_file_problems(data: dict[str, Any], path: Path, root: Node) -> list[Problem]:
    """Local voice files (the line's, and each language's) that are missing, or have no
    piper config beside them."""
    voice = data.get("voice")
    if not isinstance(voice, dict):
        return []
    named: list[tuple[tuple[str, ...], object]] = [(("voice", "model"), voice.get("model"))]
    languages = voice.get("languages")
    if isinstance(languages, dict):
        for code, choice in languages.items():
            if isinstance(choice, dict):
                named.append((("voice", "languages", str(code), "model"), choice.get("model")))
    problems = []
    for loc, model in named:
        if not isinstance(model, str) or not model:
            continue
        file = (path.parent / model).absolute()
        missing = file if not file.is_file() else Path(f"{file}.json")
        if not missing.is_file():
            where = ".".join(loc)
            problems.append(Problem(path, _line_of(root, loc), where, f"no such file: {missing}"))
    return problems


def _cross_file_problems(claims: list[_Claims]) -> list[Problem]:
    """Mistakes no single file shows: one number in two dialplans, two defaults, one name twice."""
    problems: list[Problem] = []
    owners: dict[str, _Claims] = {}
    names: dict[str, _Claims] = {}
    default: _Claims | None = None
    for claim in claims:
        for index, number in enumerate(claim.numbers):
            owner = owners.setdefault(number, claim) if number is not None else claim
            if owner is not claim:
                problems.append(
                    Problem(
                        claim.file,
                        _line_of(claim.root, ("numbers", index)),
                        f"numbers.{index}",
                        f"{number} is already served by {owner.file}",
                    )
                )
        if claim.default:
            if default is not None:
                problems.append(
                    Problem(
                        claim.file,
                        _line_of(claim.root, ("default",)),
                        "default",
                        f"only one dialplan may be the default; {default.file} already is",
                    )
                )
            else:
                default = claim
        first = names.setdefault(claim.name, claim) if claim.name is not None else claim
        if first is not claim:
            problems.append(
                Problem(
                    claim.file,
                    _line_of(claim.root, ("name",)),
                    "name",
                    f"name {claim.name!r} is already used by {first.file}",
                )
            )
    return problems
