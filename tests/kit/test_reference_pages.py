"""docs/reference/*.md say something in the repository: each page's generated summary lists
every public name of its modules with its one-line purpose, and is current."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "reference_pages.py"


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("reference_pages", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_summaries_are_current() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("page", sorted((REPO / "docs" / "reference").glob("*.md")),
                         ids=lambda p: p.name)
def test_every_public_name_of_a_page_is_listed_with_a_purpose(page: Path) -> None:
    gen = _generator()
    text = page.read_text(encoding="utf-8")
    for module_name in gen._DIRECTIVE.findall(text):  # type: ignore[attr-defined]
        module = importlib.import_module(module_name)
        for name in gen._public_names(module):  # type: ignore[attr-defined]
            rows = [line for line in text.splitlines() if line.startswith(f"| `{name}` | ")]
            assert rows and all(len(row) > len(name) + 12 for row in rows), \
                f"{page.name}: {module_name}.{name} has no row with a purpose"


def test_a_name_without_a_purpose_is_refused(tmp_path: Path) -> None:
    gen = _generator()
    (tmp_path / "refdoc_probe.py").write_text('"""Probe."""\n__all__ = ["X"]\nX = 1\n')
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(gen.MissingPurpose, match=r"refdoc_probe\.X"):  # type: ignore[attr-defined]
            gen.render("# Probe\n\n::: refdoc_probe\n")  # type: ignore[attr-defined]
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("refdoc_probe", None)
