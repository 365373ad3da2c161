"""docs/architecture.md's picture of the layers is what the imports say.

The picture lists every module of ``hcekit`` in one layer; a module may
import only from its own layer and the layers below. Issue 26.
"""

from __future__ import annotations

import re
from pathlib import Path

from .import_graph import import_graph

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORK = ROOT / "framework" / "hcekit"
PAGE = ROOT / "docs" / "architecture.md"
_ARROWS = re.compile(r"^\s*[│▼]")


def layers() -> list[tuple[str, list[str]]]:
    """``(layer, [names])`` from the top of the picture down."""
    text = PAGE.read_text(encoding="utf-8")
    block = re.search(r"```text\n(edges .*?)```", text, re.S)
    assert block is not None, "docs/architecture.md has no layer picture starting with 'edges'"
    found: list[tuple[str, list[str]]] = []
    for line in block.group(1).splitlines():
        if not line.strip() or _ARROWS.match(line):
            continue
        if not line[0].isspace():
            name, _, line = line.partition(" ")
            found.append((name, []))
        found[-1][1].extend(n.strip() for n in line.split("·") if n.strip())
    return found


def layer_of(module: str, placed: dict[str, int]) -> int:
    """The layer of ``hcekit.x.y``: the most specific name placed (``x.y``, then ``x``)."""
    name = module.removeprefix("hcekit").removeprefix(".") or "hcekit"
    while name not in placed:
        assert "." in name, f"{module} is in no layer of docs/architecture.md"
        name = name.rpartition(".")[0]
    return placed[name]


def test_the_picture_places_every_module_once() -> None:
    picture = layers()
    assert [name for name, _ in picture] == ["edges", "face", "engine", "contract", "foundation"]
    names = [n for _, ns in picture for n in ns]
    assert len(names) == len(set(names)), "a name placed twice"
    graph = import_graph(FRAMEWORK)
    for name in names:
        module = "hcekit" if name == "hcekit" else f"hcekit.{name}"
        assert module in graph, f"docs/architecture.md places {name}, which is no module"
    placed = {n: len(picture) - i for i, (_, ns) in enumerate(picture) for n in ns}
    for module in graph:
        layer_of(module, placed)


def test_every_import_goes_down_or_across() -> None:
    picture = layers()
    placed = {n: len(picture) - i for i, (_, ns) in enumerate(picture) for n in ns}
    upward = [f"{a} ({picture[len(picture) - layer_of(a, placed)][0]}) imports "
              f"{b} ({picture[len(picture) - layer_of(b, placed)][0]})"
              for a, targets in import_graph(FRAMEWORK).items() for b in sorted(targets)
              if layer_of(b, placed) > layer_of(a, placed)]
    assert upward == []


def test_the_check_sees_an_upward_import() -> None:
    """The contract naming a CLI type (what issue 26 found) would fail the test above."""
    picture = layers()
    placed = {n: len(picture) - i for i, (_, ns) in enumerate(picture) for n in ns}
    assert layer_of("hcekit.cli.personalization", placed) > layer_of("hcekit.hookspecs", placed)
    assert layer_of("hcekit.terminal.script", placed) < layer_of("hcekit.terminal.loopback", placed)
