"""One test layout: every test folder is a package and helpers are imported relatively."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).parent


def test_every_test_folder_is_a_package() -> None:
    folders = {p.parent for p in TESTS.rglob("*.py")}
    assert TESTS / "core" in folders
    missing = sorted(str(f.relative_to(TESTS)) for f in folders if not (f / "__init__.py").exists())
    assert not missing, f"test folders without __init__.py: {missing}"


def _is_child_script(path: Path) -> bool:
    """``*_worker.py`` / ``*_shim.py`` run as ``python FILE`` in a child process; their own
    folder is ``sys.path[0]`` there, so they import siblings by bare name."""
    return path.stem.endswith(("_worker", "_shim"))


def test_no_test_imports_a_helper_by_its_bare_name() -> None:
    helpers = {p.stem for p in TESTS.rglob("*.py")
               if not p.stem.startswith("test_") and p.stem not in ("conftest", "__init__")}
    assert "routing_plugins" in helpers
    bare = re.compile(rf"^\s*(?:from|import) ({'|'.join(sorted(helpers))})\b", re.M)
    offenders = [f"{p.relative_to(TESTS)}: {m.group(0).strip()}"
                 for p in TESTS.rglob("*.py") if not _is_child_script(p)
                 for m in bare.finditer(p.read_text())]
    assert not offenders, offenders


def test_the_core_imports_no_plugin_or_host_package() -> None:
    """hcekit knows personalities and hosts only through entry points and hooks."""
    import ast

    framework = TESTS.parent / "framework" / "hcekit"
    sources = list(framework.rglob("*.py"))
    assert len(sources) > 50
    named = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            named += [f"{path.relative_to(framework)}: {m}" for m in modules
                      if m.startswith("hcekit_")]
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.fullmatch(r"hcekit_\w+([.:]\w+)+", node.value):  # a module path
                named.append(f"{path.relative_to(framework)}: {node.value!r}")
    assert not named, named
