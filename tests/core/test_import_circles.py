"""No import circles: not in the core, not between a plugin and its reader, not in a new plugin.

Issue 26: the contract named a CLI type, so card, context, hookspecs, plugins,
ppse, trace and two CLI modules imported each other; mrtd, ndef and aliro had
their card and reader (or CLI) importing each other. Imports under
``TYPE_CHECKING`` and inside functions count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hcekit.scaffold import new_plugin

from .import_graph import circles, import_graph

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORK = ROOT / "framework" / "hcekit"
PLUGINS = sorted(ROOT.glob("plugins/*/hcekit_*"))


def test_the_helper_finds_a_circle(tmp_path: Path) -> None:
    """The check can fail: a TYPE_CHECKING import closing a loop is a circle."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import B\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\n"
                                  "if TYPE_CHECKING:\n    from .a import A\nB = 1\n")
    (package / "c.py").write_text("def late():\n    from . import a\n")
    assert circles(import_graph(package)) == [["pkg.a", "pkg.b"]]
    assert import_graph(package)["pkg.c"] == {"pkg.a"}


def test_the_framework_has_no_import_circle() -> None:
    graph = import_graph(FRAMEWORK)
    assert len(graph) > 60 and "hcekit.card" in graph["hcekit"]
    assert circles(graph) == []


def test_the_contract_names_no_type_of_the_layers_that_use_it() -> None:
    """Every type a hookspec names comes from the contract or below, never from cli/ or card."""
    tree = ast.parse((FRAMEWORK / "hookspecs.py").read_text())
    sources = {node.module for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and node.module}
    assert "personalization" in sources and "context" in sources
    assert not {s for s in sources if s.startswith(("cli", "card", "hosts"))}


@pytest.mark.parametrize("package", PLUGINS, ids=[p.name for p in PLUGINS])
def test_no_builtin_plugin_has_an_import_circle(package: Path) -> None:
    assert circles(import_graph(package)) == []


def test_every_builtin_plugin_is_checked() -> None:
    names = {p.name for p in PLUGINS}
    assert {"hcekit_mrtd", "hcekit_ndef", "hcekit_aliro", "hcekit_transit"} <= names


def test_a_new_plugin_has_no_import_circle(tmp_path: Path) -> None:
    """The scaffold's card, personalisation and reader side share a protocol module."""
    project = new_plugin("stamp_card", tmp_path)
    package = project / "src" / "hcekit_stamp_card"
    graph = import_graph(package)
    assert "hcekit_stamp_card.protocol" in graph["hcekit_stamp_card.personalization"]
    assert "hcekit_stamp_card.protocol" in graph["hcekit_stamp_card.plugin"]
    assert circles(graph) == []
