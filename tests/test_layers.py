"""Imports only point down: every module of the bridge imports its own part or a lower layer.

A part is a top-level package or module of `bridge` (`bridge/call/`, `bridge/app.py`, ...).
Parts on one line of LAYERS are one layer and may import each other. Every import counts:
at module level, inside a function, under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

BRIDGE = Path(__file__).resolve().parents[1] / "bridge"

# Bottom first.
LAYERS: tuple[tuple[str, ...], ...] = (
    # Settings, the records of a call, and the one OpenAI client maker.
    ("config", "records", "logmask", "openai_client", "addresses"),
    ("dialplan",),  # every per-line setting, validated
    ("observability", "store"),  # counters, lag histograms and logs; call records' storage
    ("audio",),
    ("speech",),
    ("agent",),
    ("call",),
    ("twilio",),
    # The simulated Twilio side: a client of any bridge, below the app so it can't import it.
    ("sim",),
    ("campaign",),  # outbound campaigns: contacts, caps, the dialer
    ("api", "http_limits", "preflight", "proxies", "services"),
    ("health", "stats"),
    ("app",),
    # The tools on top.
    ("console",),
    ("server", "demo"),
    ("bench", "eval", "speech_eval"),
    ("cli", "__main__"),
)
LAYER_OF = {part: index for index, parts in enumerate(LAYERS) for part in parts}


def module_name(path: Path, root: Path = BRIDGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = BRIDGE) -> set[str]:
    """Every `bridge...` module that `path` imports, relative imports resolved."""
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                found.add(".".join([*base, *([node.module] if node.module else [])]))
            elif node.module:
                found.add(node.module)
    return {name for name in found if name == "bridge" or name.startswith("bridge.")}


def part_of(module: str) -> str:
    return module.split(".")[1] if "." in module else "bridge"


def layer(part: str) -> int:
    return LAYER_OF.get(part, -1)  # the root package `bridge` itself sits below everything


def import_graph(root: Path = BRIDGE) -> dict[str, dict[str, set[str]]]:
    """part -> imported part -> the modules of `part` that import it (other parts only)."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(root.rglob("*.py")):
        importer = module_name(path, root)
        for imported in imported_modules(path, root):
            if part_of(imported) != part_of(importer):
                graph[part_of(importer)][part_of(imported)].add(importer)
    return graph


def upward_imports(graph: dict[str, dict[str, set[str]]]) -> list[str]:
    return [
        f"{importer} imports bridge.{target} (layer {layer(target)} above {layer(part)})"
        for part, targets in sorted(graph.items())
        for target, importers in sorted(targets.items())
        if layer(target) > layer(part)
        for importer in sorted(importers)
    ]


def describe(graph: dict[str, dict[str, set[str]]]) -> str:
    """One line per part, bottom layer first: the parts it imports."""
    lines = []
    for part in sorted(graph, key=lambda p: (layer(p), p)):
        targets = sorted(graph[part], key=lambda p: (layer(p), p))
        lines.append(f"{part:>14} -> {', '.join(targets)}")
    return "\n".join(lines)


def test_every_part_of_the_bridge_has_a_layer() -> None:
    parts = {part_of(module_name(path)) for path in BRIDGE.rglob("*.py")} - {"bridge"}
    assert parts - LAYER_OF.keys() == set(), "add the new part to LAYERS"
    assert LAYER_OF.keys() - parts == set(), "LAYERS names a part that no longer exists"


def test_imports_only_point_down() -> None:
    graph = import_graph()
    assert upward_imports(graph) == [], describe(graph)


def test_an_upward_import_is_found_wherever_it_hides(tmp_path: Path) -> None:
    root = tmp_path / "bridge"
    (root / "audio").mkdir(parents=True)
    (root / "audio" / "codec.py").write_text("from bridge.config import Settings\n")
    (root / "audio" / "vad.py").write_text(
        "from . import codec\n"
        "from ..call import session\n"
        "def late():\n"
        "    import bridge.app.server\n"
    )
    audio = layer("audio")
    assert upward_imports(import_graph(root)) == [
        f"bridge.audio.vad imports bridge.app (layer {layer('app')} above {audio})",
        f"bridge.audio.vad imports bridge.call (layer {layer('call')} above {audio})",
    ]


if __name__ == "__main__":
    print(describe(import_graph()))
